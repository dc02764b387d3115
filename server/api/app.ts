/**
 * The Hono application: middleware (request ids, logs, metrics, security headers, CORS, API
 * keys and roles, rate limits, body limit, timeouts), the routes and their zod schemas, the
 * OpenAPI document and the offline docs page. `createApiApp` takes its dependencies so tests
 * and the CLI build the same app.
 */
import {getConnInfo} from "@hono/node-server/conninfo";
import {createRoute, OpenAPIHono} from "@hono/zod-openapi";
import type {Context, MiddlewareHandler} from "hono";
import {bodyLimit} from "hono/body-limit";
import {HTTPException} from "hono/http-exception";
import {routePath} from "hono/route";
import {randomUUID} from "node:crypto";
import {monitorEventLoopDelay} from "node:perf_hooks";
import type {ApiConfig} from "./settings.ts";
import type {WarehouseStore} from "./data.ts";
import {docsRoutes} from "./docs.ts";
import {loadTargets} from "../../loaders/alerts/targets.ts";
import {sendTestAlert} from "../../loaders/alerts/deliver.ts";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./prometheus.ts";
import type {ModelStore, ServedModel} from "./served-model.ts";
import {ApiError, errorResponse, fieldPath, invalid, notFound, problemResponse, type FieldError} from "./problem.ts";
import {loadCustomer, loadCustomer360, warehouseModelVersion} from "./queries.ts";
import {
  CustomerIdParam,
  Customer360Schema,
  CustomerSchema,
  HealthSchema,
  PredictionResponseSchema,
  predictionRequestSchema,
  provenPredictionItems,
  type PredictionItem,
  problem,
  ReloadResponseSchema,
  SummaryRequestSchema,
  TestAlertRequestSchema,
  TestAlertResponseSchema,
  SummaryResponseSchema,
} from "./schemas.ts";
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  presentedKey,
  RateLimiter,
  ROLE_RANK,
  verifyKey,
  type Principal,
} from "./security.ts";
import {accountTokenFactory, loadFactSheet} from "./summaries/facts.ts";
import {checkScope, type SummaryService} from "./summaries/service.ts";
import type {FeatureValue} from "./served-model.ts";

export interface ApiDeps {
  config: ApiConfig;
  warehouse: WarehouseStore;
  models: ModelStore;
  summaries: SummaryService;
  metrics: ApiMetrics;
  log: Logger;
  startedAt: number;
}

type Vars = {requestId: string; principal: Principal; abortSignal: () => AbortSignal};
type Env = {Variables: Vars};

const PUBLIC_PATH = /^\/(health|openapi\.json|docs(\/[A-Za-z0-9._-]*)?)$/;
const ADMIN_PATH = /^\/(metrics|admin(\/.*)?)$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** JSON content types the fast prediction path takes (both the route's media-type gate and its JSON validator accept these). */
const JSON_BODY = /^application\/json(;\s*charset=utf-8)?$/i;

const JSON_API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function createApiApp(deps: ApiDeps): OpenAPIHono<Env> {
  const {config, warehouse, models, summaries, metrics, log} = deps;
  const limiter = new RateLimiter(config.rateLimitPerMinute, config.rateLimitBurst);
  const allowed = new Set(config.allowedOrigins);
  const authRequired = config.apiKeys.length > 0;
  const tokenOf = accountTokenFactory(config.accountTokenSecret);
  const loopDelay = monitorEventLoopDelay({resolution: 5});
  loopDelay.enable();

  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const where = result.target === "json" ? "body" : result.target === "param" ? "path" : result.target;
        const errors: FieldError[] = result.error.issues.map((i) => ({
          field: fieldPath(where, i.path),
          message: i.message,
        }));
        throw invalid(
          `${errors.length} input error${errors.length === 1 ? "" : "s"}: ${errors
            .slice(0, 3)
            .map((e) => `${e.field}: ${e.message}`)
            .join("; ")}`,
          errors,
        );
      }
      return undefined;
    },
  });

  // Headers are set BEFORE `next()`: Hono then merges them into the handler's response, while a
  // header set after the response exists would copy the whole Response each time.

  // ---- outermost: request id, timing, structured log, metrics --------------------------------
  app.use("*", async (c, next) => {
    const t0 = performance.now();
    const incoming = c.req.header("x-request-id");
    const rid = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", rid);
    c.header("x-request-id", rid);
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
        request_id: rid,
        method: c.req.method,
        route,
        status,
        duration_ms: Math.round(seconds * 10000) / 10,
        key: c.get("principal")?.name ?? null,
      };
      if (status >= 500) log.error("request", fields);
      else log.info("request", fields);
    }
  });

  // ---- security headers ------------------------------------------------------------------------
  app.use("*", async (c, next) => {
    const isDocs = c.req.path === "/docs" || c.req.path.startsWith("/docs/");
    c.header("content-security-policy", isDocs ? DOCS_CSP : JSON_API_CSP);
    c.header("x-content-type-options", "nosniff");
    c.header("x-frame-options", "DENY");
    c.header("referrer-policy", "no-referrer");
    c.header("cross-origin-opener-policy", "same-origin");
    c.header("cross-origin-resource-policy", "same-origin");
    c.header("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
    c.header("strict-transport-security", "max-age=31536000; includeSubDomains");
    if (!isDocs) c.header("cache-control", "no-store");
    await next();
  });

  // ---- CORS: allow-listed origins only; preflights from others are refused --------------------
  app.use("*", async (c, next) => {
    const origin = c.req.header("origin");
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) {
      c.header("access-control-allow-origin", origin);
      c.header("vary", "Origin");
    }
    if (c.req.method === "OPTIONS") {
      if (!ok || !c.req.header("access-control-request-method"))
        return problemResponse(
          c,
          403,
          "cors-rejected",
          "CORS preflight rejected",
          origin ? `origin ${origin.slice(0, 100)} is not in ALLOWED_ORIGINS` : "a preflight needs an Origin header",
          [{field: "header.origin", message: "not an allowed origin"}],
        );
      return c.body(null, 204, {
        "access-control-allow-methods": CORS_ALLOW_METHODS,
        "access-control-allow-headers": CORS_ALLOW_HEADERS,
        "access-control-max-age": "600",
      });
    }
    if (ok) c.header("access-control-expose-headers", CORS_EXPOSE_HEADERS);
    await next();
  });

  // ---- API keys and roles ------------------------------------------------------------------
  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (!authRequired) {
      c.set("principal", {name: "local", role: "admin"});
      return next();
    }
    const key = presentedKey(c.req.header("authorization"), c.req.header("x-api-key"));
    const principal = key ? verifyKey(key, config.apiKeys) : null;
    if (principal) c.set("principal", principal);
    if (PUBLIC_PATH.test(path)) return next();
    const challenge = {"www-authenticate": 'Bearer realm="saasguard"'};
    if (key === undefined)
      throw new ApiError(
        401,
        "unauthorized",
        "Unauthorized",
        "an API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
        [{field: "header.authorization", message: "missing"}],
        challenge,
      );
    if (!principal)
      throw new ApiError(
        401,
        "unauthorized",
        "Unauthorized",
        "the API key is not valid",
        [{field: "header.authorization", message: "unknown or malformed API key"}],
        challenge,
      );
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
  });

  // ---- per-key rate limit ------------------------------------------------------------------
  app.use("*", async (c, next) => {
    const p = c.get("principal");
    let id: string;
    if (p && authRequired) id = `key:${p.name}`;
    else {
      let addr = "unknown";
      try {
        addr = getConnInfo(c).remote.address ?? "unknown";
      } catch {
        /* not a node request (app.request in tests) */
      }
      id = `ip:${addr}`;
    }
    const r = limiter.take(id);
    c.header("ratelimit-limit", String(config.rateLimitPerMinute));
    if (!r.ok) {
      metrics.rateLimited.inc({key: p && authRequired ? p.name : "anonymous"});
      throw new ApiError(
        429,
        "rate-limited",
        "Too many requests",
        `rate limit of ${config.rateLimitPerMinute} requests per minute (burst ${config.rateLimitBurst}) exceeded; retry in ${r.retryAfterS} s`,
        undefined,
        {"retry-after": String(r.retryAfterS), "ratelimit-remaining": "0"},
      );
    }
    c.header("ratelimit-remaining", String(r.remaining));
    return next();
  });

  // ---- body size limit and request timeout --------------------------------------------------
  const tooLarge = (): never => {
    // the rest of the body is not read: close the connection so it is not reused
    throw new ApiError(
      413,
      "payload-too-large",
      "Payload too large",
      `the request body is larger than ${config.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`,
      [{field: "body", message: "too large"}],
      {connection: "close"},
    );
  };
  const streamedBodyLimit = bodyLimit({maxSize: config.bodyLimitBytes, onError: tooLarge});
  app.use("*", async (c, next) => {
    // Hono's bodyLimit looks at `c.req.raw.body` first, which makes @hono/node-server build a full
    // fetch Request with a web stream and an AbortSignal for EVERY request (GET included) — a
    // large share of a request's CPU. A declared Content-Length is enforced by Node's HTTP parser
    // (the body cannot be longer), so it is checked from the header alone; only bodies without
    // one (chunked) are counted as they stream, by Hono's bodyLimit.
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next(); // a fetch Request of these has no body
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined)
      return parseInt(length, 10) > config.bodyLimitBytes ? tooLarge() : next();
    return streamedBodyLimit(c, next);
  });
  const timeout: MiddlewareHandler<Env> = async (c, next) => {
    // an AbortSignal costs a few µs to make: only handlers that do slow work ask for one
    let ac: AbortController | null = null;
    c.set("abortSignal", () => (ac ??= new AbortController()).signal);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac?.abort();
        reject(
          new ApiError(
            503,
            "timeout",
            "Request timed out",
            `the request took longer than ${config.requestTimeoutMs} ms (REQUEST_TIMEOUT_MS) and was cancelled`,
            undefined,
            {"retry-after": "5"},
          ),
        );
      }, config.requestTimeoutMs);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
  app.use("*", timeout);

  // ---- errors --------------------------------------------------------------------------------
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (err instanceof HTTPException) {
      const s = err.status;
      if (s === 400)
        return problemResponse(c, 400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", [
          {field: "body", message: "not valid JSON"},
        ]);
      if (s === 415)
        return problemResponse(
          c,
          415,
          "unsupported-media-type",
          "Unsupported media type",
          "send the body as application/json",
          [{field: "header.content-type", message: "must be application/json"}],
        );
      return problemResponse(c, s, "http-error", err.message || "Error", err.message || "request failed");
    }
    log.error("unhandled error", {
      request_id: c.get("requestId"),
      error: (err as Error).message?.split("\n")[0]?.slice(0, 300),
    });
    return problemResponse(
      c,
      500,
      "internal",
      "Internal server error",
      "an unexpected error occurred; the request id identifies it in the server log",
    );
  });
  app.notFound((c) =>
    problemResponse(
      c,
      404,
      "not-found",
      "Not found",
      `no endpoint ${c.req.method} ${c.req.path.slice(0, 200)} (see /docs)`,
      [{field: "path", message: "unknown endpoint"}],
    ),
  );

  // ---- routes -----------------------------------------------------------------------------
  const common = {
    401: problem("Missing or invalid API key"),
    403: problem("The key's role is not enough"),
    429: problem("Rate limit exceeded"),
    503: problem("Data or model not available yet, or timed out"),
  };

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
          uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
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

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["ops"],
      summary: "Prometheus metrics (admin)",
      responses: {
        200: {
          content: {"text/plain": {schema: HealthSchema.shape.status}},
          description: "Prometheus text format 0.0.4",
        },
        ...common,
      },
    }),
    (c) => {
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
      method: "get",
      path: "/customers/{id}",
      tags: ["customers"],
      summary: "An account's profile and current scores",
      request: {params: CustomerIdParam},
      responses: {
        200: {content: {"application/json": {schema: CustomerSchema}}, description: "The account"},
        404: problem("Unknown customer id"),
        422: problem("Invalid id"),
        ...common,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = await warehouse.use(async (snap) => {
        const r = await loadCustomer(snap, id);
        if (!r)
          throw notFound(`no active customer with id ${id}`, [{field: "path.id", message: "unknown customer id"}]);
        return {...r, data: {built_at: snap.info.built_at, as_of: snap.info.as_of}};
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/predictions/customers/{id}/360",
      tags: ["predictions"],
      summary: "Customer 360: scores, flight risk, quadrant, drivers, action, open tickets and opportunities",
      request: {params: CustomerIdParam},
      responses: {
        200: {content: {"application/json": {schema: Customer360Schema}}, description: "The 360 view"},
        404: problem("Unknown customer id"),
        422: problem("Invalid id"),
        ...common,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = await warehouse.use(async (snap) => {
        const v = await loadCustomer360(snap, id);
        if (!v)
          throw notFound(`no active customer with id ${id}`, [{field: "path.id", message: "unknown customer id"}]);
        const {data_as_of: _asOf, ...rest} = v;
        return {
          customer_id: id,
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          scored_by_model_version: await warehouseModelVersion(snap),
          ...rest,
        };
      });
      return c.json(body, 200);
    },
  );

  const current = models.current;
  const example = current
    ? Object.fromEntries(current.model.features.map((f) => [f.name, f.kind === "categorical" ? f.categories![0]! : 0]))
    : undefined;
  const PredictionRequest = predictionRequestSchema(config.predictionBatchLimit).openapi(
    example ? {example: {features: example}} : {},
  );

  /** Each item's features checked with the model's zod schema; throws a 422 naming every bad field. */
  const parseFeatures = (m: ServedModel, items: PredictionItem[]): Record<string, FeatureValue>[] => {
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
  };

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
  const provenPredictions: MiddlewareHandler<Env> = async (c, next) => {
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
        ...common,
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
      method: "post",
      path: "/summaries/customer",
      tags: ["summaries"],
      summary: "A guardrailed, watermarked AI summary of one account",
      description:
        "Built from an allow-list of aggregate facts and an opaque account token (no names, emails or phone numbers reach the model). The answer is validated and every number and name is checked against the facts; one retry, then the built-in summary (flagged). Requests that are not account summaries are refused with 422.",
      request: {body: {content: {"application/json": {schema: SummaryRequestSchema}}, required: true}},
      responses: {
        200: {
          content: {"application/json": {schema: SummaryResponseSchema}},
          description: "The summary, ending with the governance watermark",
        },
        400: problem("Malformed JSON"),
        404: problem("Unknown customer id"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Invalid or out-of-scope request"),
        ...common,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const instructions = body.instructions?.trim() || null;
      if (instructions) {
        const v = checkScope(instructions);
        if (!v.ok)
          throw new ApiError(422, "out-of-scope", "Out of scope", `body.instructions ${v.message}`, [
            {field: "body.instructions", message: v.message},
          ]);
      }
      const result = await warehouse.use(async (snap) => {
        const sheet = await loadFactSheet(snap, body.customer_id, tokenOf(body.customer_id));
        if (!sheet)
          throw notFound(`no active customer with id ${body.customer_id}`, [
            {field: "body.customer_id", message: "unknown customer id"},
          ]);
        const modelVersion = (await warehouseModelVersion(snap)) ?? models.current?.version ?? "unknown";
        return summaries.summarise(sheet, {
          dataVersion: snap.version,
          modelVersion,
          focus: body.focus,
          instructions,
          signal: c.get("abortSignal")(),
        });
      });
      return c.json(result, 200);
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
        ...common,
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
        ...common,
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

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "SaaSGuard API",
      version: "1.0.0",
      description:
        "Customer health, churn predictions and guardrailed AI account summaries. Authenticate with `Authorization: Bearer <key>` (or `X-API-Key`). Errors are `application/problem+json` naming the bad field.",
    },
    security: authRequired ? [{bearer: []}] : [],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "an API key made with `npm run api:key`",
  });
  docsRoutes(app as unknown as OpenAPIHono);

  return app;
}

/** Reads the client's request body only through zod routes; exported for tests of the app. */
export type ApiApp = ReturnType<typeof createApiApp>;
export type {Context};
