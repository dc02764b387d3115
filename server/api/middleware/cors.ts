import type {MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";
import {problemResponse} from "../problem.ts";
import {CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS} from "../security.ts";

/**
 * CORS for an allow-list of origins only (ALLOWED_ORIGINS). Other origins get no CORS headers,
 * and their preflights a 403 problem+json that says why — Hono's `hono/cors` answers every
 * preflight 204 and leaves the browser to guess, which is hard to debug from a CRM integration.
 */
export function corsAllowList({origins}: {origins: readonly string[]}): MiddlewareHandler<ApiEnv> {
  const allowed = new Set(origins);
  return async (c, next) => {
    const origin = c.req.header("origin");
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) {
      c.header("access-control-allow-origin", origin);
      c.header("vary", "Origin");
    }
    if (c.req.method === "OPTIONS") {
      if (!ok || !c.req.header("access-control-request-method"))
        return problemResponse(
          c,
          403,
          "cors-rejected",
          "CORS preflight rejected",
          origin ? `origin ${origin.slice(0, 100)} is not in ALLOWED_ORIGINS` : "a preflight needs an Origin header",
          [{field: "header.origin", message: "not an allowed origin"}],
        );
      return c.body(null, 204, {
        "access-control-allow-methods": CORS_ALLOW_METHODS,
        "access-control-allow-headers": CORS_ALLOW_HEADERS,
        "access-control-max-age": "600",
      });
    }
    if (ok) c.header("access-control-expose-headers", CORS_EXPOSE_HEADERS);
    await next();
  };
}
