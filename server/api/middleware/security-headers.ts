import type {MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";

const JSON_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The docs page runs Swagger UI's own script and styles from this server, nothing else. */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/");

/**
 * Security headers on every response: a deny-all CSP for JSON (a looser one for /docs), no
 * sniffing, no framing, no referrer, no caching of API answers. Hono's `hono/secure-headers`
 * sets its headers after the handler ran (copying the finished response) and takes one CSP for
 * every path; setting them before `next()` lets Hono merge them into the response as it is made.
 */
export function securityHeaders(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const docs = isDocs(c.req.path);
    c.header("content-security-policy", docs ? DOCS_CSP : JSON_API_CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("x-frame-options", "DENY");
    c.header("referrer-policy", "no-referrer");
    c.header("cross-origin-opener-policy", "same-origin");
    c.header("cross-origin-resource-policy", "same-origin");
    c.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
    c.header("strict-transport-security", "max-age=31536000; includeSubDomains");
    if (!docs) c.header("cache-control", "no-store");
    await next();
  };
}
