import type {MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";
import {presentedKey, ROLE_RANK, verifyKey} from "../security.ts";
import type {ApiKeyEntry} from "../settings.ts";

/** Paths anyone may call: liveness and the API's own documentation. */
export const PUBLIC_PATH = /^\/(health|openapi\.json|docs(\/[A-Za-z0-9._-]*)?)$/;
/** Paths that need the admin role. */
export const ADMIN_PATH = /^\/(metrics|admin(\/.*)?)$/;

/**
 * API keys and roles, in two steps with the rate limiter between them (server/api/app.ts):
 * `identifyCaller` finds who calls, `authorizeCaller` refuses who may not. A request with a wrong
 * key is thus rate-limited (per client address) like any other, instead of being answered 401
 * as fast as a key-guesser can send.
 *
 * With no keys configured the server only listens on loopback (checked at start) and every
 * caller is the local admin. Otherwise a key is checked against the stored sha256 hashes in
 * constant time, and the path decides the role it needs. Hono's `bearerAuth` reads only the
 * Authorization header (our clients may send X-API-Key), has no roles and answers with
 * plain-text errors (a malformed header gets 400), not the 401/403 problems below.
 */
export function identifyCaller({keys}: {keys: readonly ApiKeyEntry[]}): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (keys.length === 0) c.set("principal", {name: "local", role: "admin"});
    else {
      const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
      const principal = key ? verifyKey(key, keys) : null;
      if (principal) c.set("principal", principal);
    }
    return next();
  };
}

export function authorizeCaller({keys}: {keys: readonly ApiKeyEntry[]}): MiddlewareHandler<ApiEnv> {
  const challenge = {"www-authenticate": 'Bearer realm="saasguard"'};
  return async (c, next) => {
    const path = c.req.path;
    if (keys.length === 0 || PUBLIC_PATH.test(path)) return next();
    const principal = c.get("principal");
    if (!principal) {
      const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
      if (key === undefined)
        throw new ApiError(
          401,
          "unauthorized",
          "Unauthorized",
          "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
          [{field: "header.authorization", message: "missing"}],
          challenge,
        );
      throw new ApiError(
        401,
        "unauthorized",
        "Unauthorized",
        "the API key is not valid",
        [{field: "header.authorization", message: "unknown or malformed API key"}],
        challenge,
      );
    }
    const need = ADMIN_PATH.test(path) ? "admin" : "read";
    if (ROLE_RANK[principal.role] < ROLE_RANK[need])
      throw new ApiError(
        403,
        "forbidden",
        "Forbidden",
        `this endpoint needs the ${need} role; the key "${principal.name}" has the ${principal.role} role`,
        [{field: "header.authorization", message: `role ${principal.role} is not enough`}],
      );
    return next();
  };
}

/** Both steps at once, for an app without a rate limiter between them. */
export function apiKeyAuth({keys}: {keys: readonly ApiKeyEntry[]}): MiddlewareHandler<ApiEnv> {
  const identify = identifyCaller({keys});
  const authorize = authorizeCaller({keys});
  return (c, next) =>
    identify(c, async () => {
      await authorize(c, next);
    });
}
