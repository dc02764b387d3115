import {getConnInfo} from "@hono/node-server/conninfo";
import type {Context, MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";
import {presentedKey, ROLE_RANK, verifyKey} from "../security.ts";
import {PERSON_ROLES, type ApiKeyEntry, type IdentityProxy} from "../settings.ts";

/** The TCP peer's address, or null when the request did not come over a socket (app.request in tests). */
function peerAddress(c: Context<ApiEnv>): string | null {
  try {
    const a = getConnInfo(c).remote.address ?? null;
    return a?.startsWith("::ffff:") ? a.slice(7) : a;
  } catch {
    return null;
  }
}

/**
 * A person signed in by the trusted proxy, from its identity header. The header is believed only
 * from the proxy's own addresses: from anywhere else, anyone could claim to be anyone.
 */
function personFromProxy(c: Context<ApiEnv>, proxy: IdentityProxy): void {
  const user = c.req.header(proxy.userHeader);
  if (user === undefined) return;
  const peer = peerAddress(c);
  if (peer === null || !proxy.addresses.includes(peer))
    throw new ApiError(
      403,
      "forbidden",
      "Forbidden",
      `the identity header ${proxy.userHeader} is accepted only from the configured proxy (TRUSTED_PROXY_ADDRESSES), not from ${peer ?? "this client"}`,
      [{field: `header.${proxy.userHeader}`, message: "not from the trusted proxy"}],
    );
  const name = user.trim();
  if (!/^[\p{L}\p{N} .'@_-]{1,120}$/u.test(name))
    throw new ApiError(
      400,
      "bad-request",
      "Bad request",
      `the identity header ${proxy.userHeader} does not hold a name`,
      [{field: `header.${proxy.userHeader}`, message: "1–120 letters, digits, spaces, . ' @ _ -"}],
    );
  const role = (c.req.header(proxy.roleHeader) ?? "csm").trim().toLowerCase();
  if (!(PERSON_ROLES as readonly string[]).includes(role))
    throw new ApiError(
      403,
      "forbidden",
      "Forbidden",
      `the proxy gave the role "${role.slice(0, 40)}": people are ${PERSON_ROLES.join(" or ")}`,
      [{field: `header.${proxy.roleHeader}`, message: `must be ${PERSON_ROLES.join(" or ")}`}],
    );
  c.set("principal", {name, role: role as (typeof PERSON_ROLES)[number], via: "proxy"});
}

/** Paths anyone may call: liveness, readiness (probes carry no key) and the API's own documentation. */
export const PUBLIC_PATH = /^\/(health|ready|openapi\.json|docs(\/[A-Za-z0-9._-]*)?)$/;
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
export function identifyCaller({
  keys,
  proxy = null,
}: {
  keys: readonly ApiKeyEntry[];
  proxy?: IdentityProxy | null;
}): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (proxy) personFromProxy(c, proxy);
    if (c.get("principal")) return next();
    if (keys.length === 0) c.set("principal", {name: "local", role: "admin", via: "api_key"});
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
