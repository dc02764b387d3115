import {createRoute} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError} from "../problem.ts";
import {HealthSchema, problem, ReadySchema} from "../schemas.ts";

/**
 * GET /health: liveness (answers 200 while the process serves HTTP), the build and model being
 * served, and how summaries are made. GET /ready: readiness — 200 only once a warehouse build
 * (with its read model) and the churn model are loaded, else a 503 problem saying what is
 * missing, so a load balancer sends traffic only to an instance that can answer it. Both public.
 */
export function healthRoutes(app: ApiApp, {warehouse, models, summaries, metrics, startedAt}: ApiDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["ops"],
      summary: "Readiness: a warehouse build and the churn model are loaded",
      description:
        "For load balancers and orchestrators (a readiness probe); /health stays the liveness probe. Public, like /health.",
      security: [],
      responses: {
        200: {content: {"application/json": {schema: ReadySchema}}, description: "Ready to serve"},
        429: problem("Rate limit exceeded"),
        503: problem("Not ready: the warehouse or the model is not loaded (the detail says which, and why)"),
      },
    }),
    (c) => {
      // the store swaps a snapshot in only after its read model is built, and a model only after its
      // TreeSHAP worker started: `current` is set exactly when requests can be answered
      const snap = warehouse.current;
      const m = models.current;
      if (!snap || !m) {
        const missing = [
          snap ? null : `no warehouse build is loaded (${warehouse.lastError ?? "none yet"})`,
          m ? null : `no churn model is loaded (${models.lastError ?? "none yet"})`,
        ].filter(Boolean);
        throw new ApiError(503, "not-ready", "Not ready", `not ready: ${missing.join("; ")}`, undefined, {
          "retry-after": "5",
          "cache-control": "no-store",
        });
      }
      c.header("cache-control", "no-store");
      return c.json(
        {
          status: "ready" as const,
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of, customers: snap.info.customers},
          model: {version: m.version},
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["ops"],
      summary: "Liveness, data build time and model version",
      responses: {200: {content: {"application/json": {schema: HealthSchema}}, description: "Server is up"}},
    }),
    (c) => {
      const snap = warehouse.current;
      const m = models.current;
      return c.json(
        {
          status: snap && m ? ("ok" as const) : ("degraded" as const),
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          data: {
            available: !!snap,
            built_at: snap?.info.built_at ?? null,
            as_of: snap?.info.as_of ?? null,
            customers: snap?.info.customers ?? null,
            source: snap?.info.source ?? null,
            error: snap ? null : (warehouse.lastError ?? "no warehouse yet"),
          },
          model: {
            available: !!m,
            version: m?.version ?? null,
            trained_at: m?.model.card.trained_at ?? null,
            drivers: m ? (m.model.explainer ? ("treeshap" as const) : ("none" as const)) : null,
            error: m ? null : (models.lastError ?? "no model yet"),
          },
          summaries: {
            generator: summaries.llmConfigured ? ("llm" as const) : ("builtin" as const),
            llm_circuit_open: metrics.circuitOpen.get() === 1,
          },
        },
        200,
      );
    },
  );
}
