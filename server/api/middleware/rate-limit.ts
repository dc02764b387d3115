import {getConnInfo} from "@hono/node-server/conninfo";
import type {MiddlewareHandler} from "hono";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";
import type {ApiMetrics} from "../prometheus.ts";
import {RateLimiter} from "../security.ts";

/**
 * A token bucket per API key (per client address when the server runs without keys), with the
 * IETF RateLimit headers and a 429 problem with Retry-After. Hono ships no rate limiter.
 */
export function rateLimit({
  perMinute,
  burst,
  byKey,
  metrics,
}: {
  perMinute: number;
  burst: number;
  /** true when callers carry API keys: limit per key, not per address */
  byKey: boolean;
  metrics: ApiMetrics;
}): MiddlewareHandler<ApiEnv> {
  const limiter = new RateLimiter(perMinute, burst);
  return async (c, next) => {
    const p = c.get("principal");
    let id: string;
    if (p && byKey) id = `key:${p.name}`;
    else {
      let addr = "unknown";
      try {
        addr = getConnInfo(c).remote.address ?? "unknown";
      } catch {
        /* not a Node request (app.request in tests) */
      }
      id = `ip:${addr}`;
    }
    const r = limiter.take(id);
    c.header("ratelimit-limit", String(perMinute));
    if (!r.ok) {
      metrics.rateLimited.inc({key: p && byKey ? p.name : "anonymous"});
      throw new ApiError(
        429,
        "rate-limited",
        "Too many requests",
        `rate limit of ${perMinute} requests per minute (burst ${burst}) exceeded; retry in ${r.retryAfterS} s`,
        undefined,
        {"retry-after": String(r.retryAfterS), "ratelimit-remaining": "0"},
      );
    }
    c.header("ratelimit-remaining", String(r.remaining));
    return next();
  };
}
