import type {MiddlewareHandler} from "hono";
import {routePath} from "hono/route";
import type {ApiEnv} from "../env.ts";
import type {Logger} from "../log.ts";
import type {ApiMetrics} from "../prometheus.ts";

/**
 * One structured log line and the request metrics per request, by route pattern (never the
 * path itself: ids in paths would be personal data in the logs and unbounded metric labels).
 * Runs outermost, so it sees the final status of every response, errors included.
 */
export function requestLog({metrics, log}: {metrics: ApiMetrics; log: Logger}): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const t0 = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      let route = routePath(c, -1);
      if (c.req.method === "OPTIONS") route = "preflight";
      else if (!route || route === "*" || route === "/*") route = "unmatched";
      const status = c.res.status;
      metrics.requests.inc({method: c.req.method, route, status: String(status)});
      metrics.latency.observe({method: c.req.method, route}, seconds);
      const fields = {
        request_id: c.get("requestId"),
        method: c.req.method,
        route,
        status,
        duration_ms: Math.round(seconds * 10000) / 10,
        key: c.get("principal")?.name ?? null,
      };
      if (status >= 500) log.error("request", fields);
      else log.info("request", fields);
    }
  };
}
