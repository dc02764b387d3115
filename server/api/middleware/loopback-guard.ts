import type {MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";
import {isLoopbackHost} from "../settings.ts";

const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/** Methods a browser sends cross-origin without a preflight when the body is a "simple" type. */
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The host name of a Host header or an Origin URL, without port and brackets; null if unparsable. */
function hostOf(value: string, isOrigin: boolean): string | null {
  try {
    return new URL(isOrigin ? value : `http://${value}`).hostname;
  } catch {
    return null;
  }
}

/**
 * Without API keys every caller that reaches the port is the local admin, which is only safe if
 * the callers are local programs. A web page the CSM opens is not one, and it gets through two
 * ways: DNS rebinding (rebind.attacker.example resolves to 127.0.0.1 after the page loaded, so
 * the browser sends `Host: rebind.attacker.example` and lets the page read the answer), and
 * "simple" cross-origin requests (a text/plain POST to /admin/reload needs no preflight). So:
 * the Host must be a loopback name, and a state-changing request from a browser must come from a
 * loopback origin (the site served by `npm start`) or one listed in ALLOWED_ORIGINS.
 * With API keys none of this is needed: a page cannot attach a key it does not know.
 */
export function loopbackGuard({
  enabled,
  origins,
}: {
  enabled: boolean;
  origins: readonly string[];
}): MiddlewareHandler<ApiEnv> {
  const allowed = new Set(origins);
  return async (c, next) => {
    if (!enabled) return next();
    // app.request() in tests carries no Host header: its URL names the host then
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    // the usual loopback Host values are recognised without parsing a URL on every request
    const name = LOOPBACK_HOST.test(host) ? "localhost" : hostOf(host, false);
    if (name === null || !isLoopbackHost(name))
      throw new ApiError(
        421,
        "misdirected-request",
        "Misdirected request",
        "without API keys this API answers only requests addressed to a loopback name (localhost, 127.0.0.1, [::1]); this Host header is not one (DNS rebinding protection)",
        [{field: "header.host", message: "not a loopback host name"}],
      );
    const origin = c.req.header("origin");
    const fetchSite = c.req.header("sec-fetch-site");
    if (STATE_CHANGING.has(c.req.method)) {
      const fromLoopback = origin !== undefined && origin !== "null" && isLoopbackHost(hostOf(origin, true) ?? "");
      const foreign = origin !== undefined ? !fromLoopback && !allowed.has(origin) : fetchSite === "cross-site";
      if (foreign)
        throw new ApiError(
          403,
          "cross-origin-refused",
          "Cross-origin request refused",
          "without API keys this API refuses state-changing requests from web pages of other origins; list the origin in ALLOWED_ORIGINS or use API keys",
          [{field: "header.origin", message: "not a loopback or allowed origin"}],
        );
    }
    return next();
  };
}
