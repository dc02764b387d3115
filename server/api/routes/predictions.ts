import {createRoute} from "@hono/zod-openapi";
import type {MiddlewareHandler} from "hono";
import type {ApiApp, ApiDeps, ApiEnv} from "../env.ts";
import {widestObject} from "../json-shape.ts";
import {fieldPath, invalid, type FieldError} from "../problem.ts";
import {bulkPage, bulkStream, filtersOf} from "../bulk.ts";
import {warehouseModelVersion} from "../queries.ts";
import {
  BatchItemSchema,
  BatchPageSchema,
  BatchQuery,
  PredictionResponseSchema,
  predictionRequestSchema,
  problem,
  provenPredictionItems,
  type PredictionItem,
} from "../schemas.ts";
import type {FeatureValue, ServedModel} from "../served-model.ts";
import {COMMON_RESPONSES} from "./responses.ts";
import {MAX_FIELD_ERRORS} from "../errors.ts";

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
      if (errors.length >= MAX_FIELD_ERRORS) break;
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
      errors.slice(0, MAX_FIELD_ERRORS),
    );
  return rows as Record<string, FeatureValue>[];
}

/** Unknown keys per features object beyond which the body is refused before zod (and the most listed). */
const MAX_UNKNOWN_PER_ITEM = 10;

/**
 * Refuses, before zod sees it, a body whose shape alone makes it invalid and expensive: more
 * instances than the batch limit, or feature objects with keys the model does not have. zod
 * would walk every one of 85,000 unknown keys (≈200 ms of a blocked event loop for a 0.9 MB
 * body) and list each in the answer; here they are counted in one pass and the first few named.
 * A feature object with a few unknown keys is left to zod, which names every mistake in it.
 */
function refuseFloods(m: ServedModel, body: unknown, limit: number): void {
  if (typeof body !== "object" || body === null) return;
  const b = body as {features?: unknown; instances?: unknown};
  if (Array.isArray(b.instances) && b.instances.length > limit)
    throw invalid(`body.instances: must hold at most ${limit} instances (PREDICTION_BATCH_LIMIT)`, [
      {field: "body.instances", message: `${b.instances.length} instances; at most ${limit}`},
    ]);
  const objects: [string, unknown][] = [["body.features", b.features]];
  if (Array.isArray(b.instances))
    b.instances.forEach((x: unknown, i) => {
      if (typeof x === "object" && x !== null)
        objects.push([`body.instances[${i}].features`, (x as {features?: unknown}).features]);
    });
  const known = new Set(m.featureNames);
  const errors: FieldError[] = [];
  let unknown = 0;
  let flood = false;
  for (const [where, features] of objects) {
    if (typeof features !== "object" || features === null || Array.isArray(features)) continue;
    let listed = 0;
    for (const k of Object.keys(features)) {
      if (known.has(k)) continue;
      unknown++;
      // zod copies a record key by key, and `out["__proto__"] = v` sets a prototype instead of
      // a key: the key would vanish before the feature check sees it. Refuse it here.
      if (k === "__proto__") flood = true;
      if (listed++ < MAX_UNKNOWN_PER_ITEM) {
        if (errors.length < MAX_FIELD_ERRORS)
          errors.push({
            field: fieldPath(where, [k.slice(0, 100)]),
            message: "unknown feature (the model's features are listed in its card)",
          });
      } else flood = true;
    }
  }
  // a few stray keys go on to zod, whose answer names every other mistake too
  if (flood)
    throw invalid(
      `${unknown.toLocaleString("en-US")} unknown feature${unknown === 1 ? "" : "s"}${unknown > errors.length ? ` (the first ${errors.length} are listed)` : ""}: ${errors
        .slice(0, 3)
        .map((e) => e.field)
        .join(", ")}`,
      errors,
    );
}

const NDJSON = "application/x-ndjson";

/**
 * Whether the client asks for NDJSON: `Accept` lists application/x-ndjson with a quality at
 * least that of JSON (a browser's or a generic client's `*\/*` alone gets JSON).
 */
export function acceptsNdjson(accept: string | undefined): boolean {
  if (!accept) return false;
  let nd = -1;
  let json = -1;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.trim().toLowerCase().split(";");
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (type === NDJSON) nd = Math.max(nd, Number.isFinite(q) ? q : 0);
    else if (type === "application/json") json = Math.max(json, Number.isFinite(q) ? q : 0);
  }
  return nd > 0 && nd >= json;
}

/** POST /predictions/churn: the churn model on one account's features or a batch; GET /predictions/batch: every account's scores. */
export function predictionRoutes(app: ApiApp, {config, models, metrics, warehouse}: ApiDeps): void {
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
    const text = await c.req.text();
    // An object wider than any feature object can be is refused unread (see widestObject). A body
    // under 16 kB cannot hold enough keys to matter, and V8 parses it faster than it is scanned.
    const widthLimit = models.current.featureNames.length + MAX_UNKNOWN_PER_ITEM;
    if (text.length > 16_384 && widestObject(text, widthLimit) > widthLimit)
      throw invalid(
        `an object in the body has more than ${widthLimit} keys; the model has ${models.current.featureNames.length} features, so it was refused unread`,
        [{field: "body", message: `an object with more than ${widthLimit} keys`}],
      );
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return next(); // the zod route answers the 400
    }
    // The zod route's validator calls c.req.json() again, which would parse the text a second
    // time: hand it this parse instead.
    (c.req as {json: () => Promise<unknown>}).json = () => Promise.resolve(body);
    const out = await models.use(async (m) => {
      const items = provenPredictionItems(m, body, config.predictionBatchLimit);
      if (items)
        return score(
          m,
          items,
          items.map((it) => it.features),
        );
      refuseFloods(m, body, config.predictionBatchLimit);
      return null;
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

  app.openapi(
    createRoute({
      method: "get",
      path: "/predictions/batch",
      tags: ["predictions"],
      summary: "Every account's current scores with its model drivers: paged JSON, or one NDJSON stream",
      description: `The scores tonight's build wrote (the same as the 360 view), in customer_id order, with the filters of GET /customers. JSON pages follow \`next_cursor\` until it is null. With \`Accept: ${NDJSON}\` (or \`format=ndjson\`) the answer is every matching account in one stream, one BatchPrediction a line, read from one build however long it takes (a \`cursor\` resumes after its account); the build, model version and count are in the X-Data-Built-At, X-Model-Version and X-Total-Count headers.`,
      request: {query: BatchQuery},
      responses: {
        200: {
          content: {
            "application/json": {schema: BatchPageSchema},
            [NDJSON]: {schema: BatchItemSchema},
          },
          description: "A page of accounts (JSON), or every account, one JSON object a line (NDJSON)",
        },
        409: problem("The cursor belongs to another build"),
        422: problem("Invalid filter, limit or cursor (the field is named)"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const filters = filtersOf(q);
      const ndjson = q.format === "ndjson" || (q.format === undefined && acceptsNdjson(c.req.header("accept")));
      if (!ndjson) {
        const body = await warehouse.use(async (snap) => ({
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          scored_by_model_version: await warehouseModelVersion(snap),
          ...(await bulkPage(snap, "prediction", filters, q.cursor, q.limit)),
        }));
        return c.json(body, 200);
      }
      // The stream outlives this handler: the build it reads is held until the last line is
      // taken (or the client leaves), so a reload meanwhile cannot close it under the stream.
      const held = warehouse.hold();
      try {
        const snap = held.value;
        const modelVersion = await warehouseModelVersion(snap);
        const out = await bulkStream(snap, "prediction", filters, q.cursor, {
          stallMs: config.requestTimeoutMs,
          done: held.release,
        });
        const headers: Record<string, string> = {
          "content-type": `${NDJSON}; charset=utf-8`,
          "cache-control": "no-store",
          "x-data-built-at": snap.info.built_at,
          "x-data-as-of": snap.info.as_of,
          "x-total-count": String(out.total),
        };
        if (modelVersion) headers["x-model-version"] = modelVersion;
        if (out.changed_since) headers["x-changed-since-compared-with"] = out.changed_since.compared_with;
        // Hono answers HEAD with the GET handler's headers and drops the body unread: end the stream here
        if (c.req.method === "HEAD") {
          await out.stream.cancel();
          return c.body(null, 200, headers) as never;
        }
        return c.body(out.stream, 200, headers) as never;
      } catch (e) {
        held.release();
        throw e;
      }
    },
  );
}
