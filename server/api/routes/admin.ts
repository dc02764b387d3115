import {createRoute, z} from "@hono/zod-openapi";
import {monitorEventLoopDelay, type IntervalHistogram} from "node:perf_hooks";
import {sendTestAlert} from "../../../loaders/alerts/deliver.ts";
import {loadTargets} from "../../../loaders/alerts/targets.ts";
import type {ApiApp, ApiDeps} from "../env.ts";
import {notFound} from "../problem.ts";
import {problem, ReloadResponseSchema, TestAlertRequestSchema, TestAlertResponseSchema} from "../schemas.ts";
import {COMMON_RESPONSES} from "./responses.ts";

/**
 * Event-loop delay, sampled all the time and reported with the metrics. One histogram per process
 * (the loop is the process's), made on first use, however many apps the process builds: the
 * server's start-up warm-up app and the tests' apps would otherwise each leave a sampling timer
 * running.
 */
let processLoopDelay: IntervalHistogram | null = null;
function loopDelayHistogram(): IntervalHistogram {
  if (!processLoopDelay) {
    processLoopDelay = monitorEventLoopDelay({resolution: 5});
    processLoopDelay.enable();
  }
  return processLoopDelay;
}

/** The admin role's routes: Prometheus metrics, a reload check now, a signed test alert. */
export function adminRoutes(app: ApiApp, {warehouse, models, metrics}: ApiDeps): void {
  const loopDelay = loopDelayHistogram();

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["ops"],
      summary: "Prometheus metrics (admin)",
      responses: {
        200: {
          content: {"text/plain": {schema: z.string()}},
          description: "Prometheus text format 0.0.4",
        },
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      // figures read from elsewhere at scrape time (the assistant's quality from the store)
      await metrics.registry.collect();
      metrics.eventLoopDelay.set({quantile: "0.5"}, loopDelay.percentile(50) / 1e9);
      metrics.eventLoopDelay.set({quantile: "0.99"}, loopDelay.percentile(99) / 1e9);
      metrics.eventLoopDelay.set({quantile: "1"}, loopDelay.max / 1e9);
      if (c.req.query("reset_loop_delay") === "1") loopDelay.reset();
      return c.body(metrics.registry.render(), 200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/reload",
      tags: ["ops"],
      summary: "Check for a new warehouse build or model now (admin)",
      responses: {
        200: {
          content: {"application/json": {schema: ReloadResponseSchema}},
          description: "What is served after the check",
        },
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      await Promise.all([warehouse.check(), models.check()]);
      return c.json(
        {data: {built_at: warehouse.current?.info.built_at ?? null}, model: {version: models.current?.version ?? null}},
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/alerts/test",
      tags: ["ops"],
      summary: "Send a signed test alert to a configured webhook target (admin)",
      request: {body: {content: {"application/json": {schema: TestAlertRequestSchema}}, required: true}},
      responses: {
        200: {content: {"application/json": {schema: TestAlertResponseSchema}}, description: "The delivery attempt"},
        404: problem("Unknown target"),
        422: problem("Invalid body"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {target} = c.req.valid("json");
      const t = loadTargets().targets.find((x) => x.name === target);
      if (!t)
        throw notFound(`no webhook target named ${target} (see SAASGUARD_WEBHOOKS / alerts.targets.json)`, [
          {field: "body.target", message: "unknown target"},
        ]);
      const r = await sendTestAlert(t);
      return c.json({id: r.id, target: r.target, ok: r.ok, status: r.status, detail: r.ok ? null : r.error}, 200);
    },
  );
}
