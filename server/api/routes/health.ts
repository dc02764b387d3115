import {createRoute} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {HealthSchema} from "../schemas.ts";

/** GET /health: liveness, the build and model being served, and how summaries are made. Public. */
export function healthRoutes(app: ApiApp, {warehouse, models, summaries, metrics, startedAt}: ApiDeps): void {
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
