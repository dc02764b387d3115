import {createRoute} from "@hono/zod-openapi";
import type {MiddlewareHandler} from "hono";
import type {ApiApp, ApiDeps, ApiEnv} from "../env.ts";
import {fieldPath, invalid, type FieldError} from "../problem.ts";
import {
  PredictionResponseSchema,
  predictionRequestSchema,
  problem,
  provenPredictionItems,
  type PredictionItem,
} from "../schemas.ts";
import type {FeatureValue, ServedModel} from "../served-model.ts";
import {COMMON_RESPONSES} from "./responses.ts";

/** JSON content types the fast path takes (the route's media-type gate and its JSON validator accept these). */
const JSON_BODY = /^application\/json(;\s*charset=utf-8)?$/i;

/** Each item's features checked with the model's zod schema; throws a 422 naming every bad field. */
function parseFeatures(m: ServedModel, items: PredictionItem[]): Record<string, FeatureValue>[] {
  const errors: FieldError[] = [];
  const rows = items.map((it) => {
    const r = m.schema.safeParse(it.features);
    if (r.success) return r.data;
    const missing = m.featureNames.filter((f) => !Object.hasOwn(it.features, f));
    if (missing.length)
      errors.push({
        field: it.where,
        message: `missing feature(s): ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ` and ${missing.length - 8} more` : ""} (send null for an unknown value)`,
      });
    for (const i of r.error.issues) {
      if (errors.length >= 100) break;
      if (i.path.length === 1 && missing.includes(String(i.path[0]))) continue;
      if (i.code === "unrecognized_keys") {
        for (const k of i.keys.slice(0, 10))
          errors.push({
            field: fieldPath(it.where, [k]),
            message: "unknown feature (the model's features are listed in its card)",
          });
      } else errors.push({field: fieldPath(it.where, i.path), message: i.message});
    }
    return null;
  });
  if (errors.length)
    throw invalid(
      `${errors.length} feature error${errors.length === 1 ? "" : "s"}: ${errors
        .slice(0, 3)
        .map((e) => `${e.field}: ${e.message}`)
        .join("; ")}`,
      errors.slice(0, 100),
    );
  return rows as Record<string, FeatureValue>[];
}

/** POST /predictions/churn: the churn model on one account's features or a batch. */
export function predictionRoutes(app: ApiApp, {config, models, metrics}: ApiDeps): void {
  /** Scores valid feature rows (one per item) in input order. */
  const score = async (m: ServedModel, items: PredictionItem[], rows: Record<string, FeatureValue>[]) => {
    const preds = await Promise.all(rows.map((r) => m.predict(r)));
    metrics.predictions.inc({}, preds.length);
    return {model_version: m.version, predictions: preds.map((p, i) => ({id: items[i]!.id, ...p}))};
  };

  // Fast path for bodies proven valid by an exact hand-written check (provenPredictionItems,
  // tested against the zod schemas): they skip the route's zod validator, whose two passes
  // (generic body schema, then the model's features) cost more CPU than scoring the row.
  // Everything else falls through to the zod route below, which stays the documented contract
  // and the source of every error message.
  const provenPredictions: MiddlewareHandler<ApiEnv> = async (c, next) => {
    if (!models.current || !JSON_BODY.test(c.req.header("content-type") ?? "")) return next();
    let body: unknown;
    try {
      body = await c.req.json(); // the text is cached: the zod route re-reads it if needed
    } catch {
      return next();
    }
    const out = await models.use(async (m) => {
      const items = provenPredictionItems(m, body, config.predictionBatchLimit);
      return items
        ? score(
            m,
            items,
            items.map((it) => it.features),
          )
        : null;
    });
    return out ? c.json(out, 200) : next();
  };

  const current = models.current;
  const example = current
    ? Object.fromEntries(current.model.features.map((f) => [f.name, f.kind === "categorical" ? f.categories![0]! : 0]))
    : undefined;
  const PredictionRequest = predictionRequestSchema(config.predictionBatchLimit).openapi(
    example ? {example: {features: example}} : {},
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/predictions/churn",
      tags: ["predictions"],
      summary: "Score one account or a batch with the churn model (calibrated probability, tier, TreeSHAP drivers)",
      description: `Send \`{"features": {...}}\` for one account or \`{"instances": [{"id": "...", "features": {...}}, ...]}\` for up to ${config.predictionBatchLimit}. Feature names and categories are the model card's (GET /health shows the model version).`,
      middleware: [provenPredictions] as const,
      request: {body: {content: {"application/json": {schema: PredictionRequest}}, required: true}},
      responses: {
        200: {
          content: {"application/json": {schema: PredictionResponseSchema}},
          description: "Predictions in input order",
        },
        400: problem("Malformed JSON"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Invalid features"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const items: PredictionItem[] = body.instances
        ? body.instances.map((x, i) => ({
            id: x.id ?? null,
            features: x.features,
            where: `body.instances[${i}].features`,
          }))
        : [{id: null, features: body.features!, where: "body.features"}];
      return c.json(await models.use((m) => score(m, items, parseFeatures(m, items))), 200);
    },
  );
}
