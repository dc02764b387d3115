/**
 * The API server over real HTTP on 127.0.0.1, against a real warehouse (tests/helpers/test-warehouse)
 * and the real ONNX model: every endpoint, the OpenAPI document and offline docs page, metrics,
 * API keys and roles, CORS, rate limits, body limits, request ids, security headers and the
 * configuration rules.
 */
import {startTestApi} from "./helpers/test-api.ts";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config as business, tierOfProbability} from "../src/rules/config.ts";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {ConfigError, loadApiConfig, type ApiConfig} from "../server/api/settings.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {newApiKey} from "../server/api/security.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let warehousePath = "";
let modelsDir = "";
let srv: ApiServer;
let samples: Awaited<ReturnType<typeof sampleFeatureRows>> = [];
let dbRows: Record<string, Record<string, unknown>> = {};

async function start(overrides: Partial<ApiConfig> = {}): Promise<ApiServer> {
  return startTestApi({
    warehousePath,
    modelsDir,
    ...overrides,
  });
}

const PROBLEM = /^application\/problem\+json/;

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{status: number; headers: Headers; body: Record<string, unknown>}> {
  const r = await fetch(url, init);
  const text = await r.text();
  return {status: r.status, headers: r.headers, body: text ? JSON.parse(text) : {}};
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  getJson(url, {
    method: "POST",
    headers: {"content-type": "application/json", ...headers},
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  warehousePath = await ensureTestWarehouse();
  modelsDir = join(dirname(warehousePath), "models");
  samples = await sampleFeatureRows(warehousePath, modelsDir, 40);
  const w = await openWarehouse(warehousePath, {readOnly: true});
  try {
    for (const r of await all(w.conn, "SELECT * FROM marts.mart_customer_risk_scores"))
      dbRows[String(r.customer_id)] = r;
  } finally {
    w.close();
  }
  srv = await start();
});

afterAll(async () => {
  await srv?.close();
});

describe("endpoints", () => {
  it("GET /health reports liveness, the data build time and the model version", async () => {
    const {status, body} = await getJson(`${srv.url}/health`);
    expect(status).toBe(200);
    expect(body.status).toBe("ok");
    const data = body.data as Record<string, unknown>;
    const model = body.model as Record<string, unknown>;
    expect(data.available).toBe(true);
    expect(String(data.built_at)).toMatch(/^\d{4}-\d{2}-\d{2} /);
    expect(data.as_of).toBe("2026-06-30");
    expect(model.version).toBe(srv.models.current!.version);
    expect(model.drivers).toBe("treeshap");
  });

  it("GET /customers/{id} returns the profile and the warehouse's current scores", async () => {
    const id = samples[3]!.customer_id;
    const {status, headers, body} = await getJson(`${srv.url}/customers/${id}`);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    const db = dbRows[id]!;
    const profile = body.profile as Record<string, unknown>;
    const scores = body.scores as Record<string, unknown>;
    expect(profile.customer_id).toBe(id);
    expect(profile.company_name).toBe(db.company_name);
    expect(scores.churn_probability).toBeCloseTo(Number(db.churn_probability), 12);
    expect(scores.model_tier).toBe(db.model_tier);
    expect(scores.risk_tier).toBe(db.risk_tier);
    expect(scores.health_score).toBe(db.health_score);
  });

  it("unknown ids are 404 and malformed ids 422, as problem+json naming the field", async () => {
    const a = await getJson(`${srv.url}/customers/C999999`);
    expect(a.status).toBe(404);
    expect(a.headers.get("content-type")).toMatch(PROBLEM);
    expect(a.body).toMatchObject({status: 404, title: "Not found", errors: [{field: "path.id"}]});
    expect(a.body.request_id).toBeTruthy();
    const b = await getJson(`${srv.url}/customers/${encodeURIComponent("C1' OR 1=1 --")}`);
    expect(b.status).toBe(422);
    expect(b.headers.get("content-type")).toMatch(PROBLEM);
    expect((b.body.errors as {field: string}[])[0]!.field).toBe("path.id");
    const c = await getJson(`${srv.url}/no/such/endpoint`);
    expect(c.status).toBe(404);
    expect(c.headers.get("content-type")).toMatch(PROBLEM);
  });

  it("GET /predictions/customers/{id}/360 has scores, quadrant, is_flight_risk by the quadrant rule, drivers, action, tickets and opportunities", async () => {
    const w = await openWarehouse(warehousePath, {readOnly: true});
    let withTickets: string;
    try {
      withTickets = String(
        (
          await all(
            w.conn,
            "SELECT customer_id FROM marts.mart_customer_risk_scores WHERE open_tickets > 0 ORDER BY customer_id LIMIT 1",
          )
        )[0]!.customer_id,
      );
    } finally {
      w.close();
    }
    for (const id of [samples[0]!.customer_id, withTickets]) {
      const {status, body} = await getJson(`${srv.url}/predictions/customers/${id}/360`);
      expect(status).toBe(200);
      const scores = body.scores as {churn_probability: number; model_tier: string};
      const q = body.quadrant as {
        model_quadrant: string;
        health_quadrant: string;
        churn_probability: number;
        health_risk: number;
        upgrade_propensity_proxy: number;
      };
      expect(q.churn_probability).toBe(scores.churn_probability);
      expect(q.model_quadrant).toBe(quadrantOracle(scores.churn_probability, q.upgrade_propensity_proxy));
      expect(q.health_quadrant).toBe(quadrantOracle(q.health_risk, q.upgrade_propensity_proxy));
      expect(body.is_flight_risk).toBe(
        scores.churn_probability >= business.quadrant.highChurn &&
          q.upgrade_propensity_proxy >= business.quadrant.highExpansion,
      );
      expect(body.recommended_action).toBe(
        business.riskTiers.find((t) => t.tier === scores.model_tier)!.recommendedAction,
      );
      const drivers = body.drivers as {rank: number; feature: string}[];
      expect(drivers.length).toBeGreaterThan(0);
      expect(drivers.map((d) => d.rank)).toEqual(drivers.map((_, i) => i + 1));
      expect((body.open_tickets as unknown[]).length).toBe(Number(dbRows[id]!.open_tickets));
      expect(Array.isArray(body.opportunities)).toBe(true);
      // the expansion model beside the proxy, explained as the churn model is
      const xm = body.expansion_model as {
        probability: number;
        expected_expansion_arr: number;
        drivers: {rank: number; contribution: number; direction: string; description: string}[];
      };
      const w2 = await openWarehouse(warehousePath, {readOnly: true});
      try {
        const [row] = await all<{p: number; e: number}>(
          w2.conn,
          `SELECT expansion_probability AS p, expected_expansion_arr AS e FROM marts.model_expansion_scores WHERE customer_id = '${id}'`,
        );
        expect(xm.probability).toBeCloseTo(row!.p, 12);
        expect(xm.expected_expansion_arr).toBeCloseTo(row!.e, 6);
      } finally {
        w2.close();
      }
      expect(xm.drivers.map((d) => d.rank)).toEqual(xm.drivers.map((_, i) => i + 1));
      for (const d of xm.drivers) {
        expect(d.direction).toBe(d.contribution > 0 ? "raises_expansion" : "lowers_expansion");
        expect(d.description.length).toBeGreaterThan(0);
      }
    }
  });

  it("GET /predictions/disagreements lists the watermelons and false alarms with both views, and the back-test", async () => {
    const {status, body} = await getJson(`${srv.url}/predictions/disagreements?limit=1000`);
    expect(status).toBe(200);
    const accounts = body.accounts as Record<string, unknown>[];
    // exactly the accounts whose two views disagree by the rule, from the scores the marts hold
    const healthy = new Set(business.riskTiers.filter((t) => t.colour === "Green").map((t) => t.tier));
    const lowest = business.modelTiers.at(-1)!.tier;
    const expected = Object.values(dbRows)
      .map((r) => ({
        id: String(r.customer_id),
        d:
          healthy.has(r.risk_tier as never) && business.atRiskTiers.includes(r.model_tier as never)
            ? "watermelon"
            : business.atRiskTiers.includes(r.risk_tier as never) && r.model_tier === lowest
              ? "false_alarm"
              : null,
      }))
      .filter((x) => x.d);
    expect(accounts.map((a) => `${a.customer_id}:${a.disagreement}`).sort()).toEqual(
      expected.map((x) => `${x.id}:${x.d}`).sort(),
    );
    expect(body.total).toBe(expected.length);
    // a tuned health score leaves few disagreements on a small portfolio: check whichever group it has
    expect(expected.length).toBeGreaterThan(0);
    const w = accounts[0]!;
    expect(w.churn_probability).toBeCloseTo(Number(dbRows[String(w.customer_id)]!.churn_probability), 12);
    expect(Array.isArray(w.model_top_drivers)).toBe(true);
    const losses = accounts.map((a) => Number(a.expected_arr_loss_90d));
    expect(losses).toEqual([...losses].sort((a, b) => b - a));
    const backtest = body.backtest as {disagreement: string; accounts: number; churned: number}[];
    const all = backtest.find((b) => b.disagreement === "all")!;
    expect(backtest.filter((b) => b.disagreement !== "all").reduce((n, b) => n + b.accounts, 0)).toBe(all.accounts);
    // a type and a limit
    const one = await getJson(`${srv.url}/predictions/disagreements?type=false_alarm&limit=1`);
    expect(one.status).toBe(200);
    expect((one.body.accounts as unknown[]).length).toBeLessThanOrEqual(1);
    expect((one.body.accounts as {disagreement: string}[]).every((a) => a.disagreement === "false_alarm")).toBe(true);
    for (const bad of ["type=melon", "limit=0", "limit=5000", "limit=ten"]) {
      const r = await getJson(`${srv.url}/predictions/disagreements?${bad}`);
      expect(r.status, bad).toBe(422);
      expect(r.headers.get("content-type")).toMatch(PROBLEM);
      expect((r.body.errors as {field: string}[])[0]!.field, bad).toBe(`query.${bad.split("=")[0]}`);
    }
  });

  it("POST /predictions/churn scores one account exactly as the build did (same ONNX model), with tier and TreeSHAP drivers", async () => {
    const s = samples[5]!;
    const {status, body} = await post(`${srv.url}/predictions/churn`, {features: s.features});
    expect(status).toBe(200);
    expect(body.model_version).toBe(srv.models.current!.version);
    const [p] = body.predictions as {
      id: string | null;
      churn_probability: number;
      risk_tier: string;
      top_drivers: {feature: string; contribution: number; direction: string}[];
    }[];
    expect(p!.id).toBeNull();
    expect(p!.churn_probability).toBeCloseTo(Number(dbRows[s.customer_id]!.churn_probability), 6);
    expect(p!.risk_tier).toBe(tierOfProbability(p!.churn_probability));
    expect(p!.top_drivers).toHaveLength(5);
    for (const d of p!.top_drivers) expect(d.direction).toBe(d.contribution > 0 ? "raises_risk" : "lowers_risk");
    const positive = p!.top_drivers.filter((d) => d.contribution > 0).map((d) => d.feature);
    expect(String(dbRows[s.customer_id]!.model_top_drivers)).toBe(
      positive.slice(0, business.healthScore.topDrivers).join(", "),
    );
  });

  it("POST /predictions/churn scores a batch in input order, up to the configured limit", async () => {
    const instances = samples.slice(0, 20).map((s) => ({id: s.customer_id, features: s.features}));
    const {status, body} = await post(`${srv.url}/predictions/churn`, {instances});
    expect(status).toBe(200);
    const preds = body.predictions as {id: string; churn_probability: number}[];
    expect(preds.map((p) => p.id)).toEqual(instances.map((i) => i.id));
    for (const p of preds) expect(p.churn_probability).toBeCloseTo(Number(dbRows[p.id]!.churn_probability), 6);

    const small = await start({predictionBatchLimit: 3});
    try {
      const over = await post(`${small.url}/predictions/churn`, {instances: instances.slice(0, 4)});
      expect(over.status).toBe(422);
      expect((over.body.errors as {field: string; message: string}[])[0]).toMatchObject({field: "body.instances"});
      expect(String(over.body.detail)).toContain("at most 3");
    } finally {
      await small.close();
    }
  });

  it("POST /predictions/churn names every bad feature", async () => {
    const f = {...samples[0]!.features, arr: "lots", plan_tier: "Platinum", not_a_feature: 1} as Record<
      string,
      unknown
    >;
    delete f.seats;
    const {status, headers, body} = await post(`${srv.url}/predictions/churn`, {features: f});
    expect(status).toBe(422);
    expect(headers.get("content-type")).toMatch(PROBLEM);
    const fields = (body.errors as {field: string; message: string}[]).map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "body.features",
        "body.features.arr",
        "body.features.plan_tier",
        "body.features.not_a_feature",
      ]),
    );
    expect(JSON.stringify(body.errors)).toContain("missing feature(s): seats");
    const both = await post(`${srv.url}/predictions/churn`, {
      features: samples[0]!.features,
      instances: [{features: samples[0]!.features}],
    });
    expect(both.status).toBe(422);
    const neither = await post(`${srv.url}/predictions/churn`, {});
    expect(neither.status).toBe(422);
    const badJson = await post(`${srv.url}/predictions/churn`, "{features:");
    expect(badJson.status).toBe(400);
    expect(badJson.body.errors).toEqual([{field: "body", message: "not valid JSON"}]);
    const notJson = await getJson(`${srv.url}/predictions/churn`, {
      method: "POST",
      headers: {"content-type": "text/plain"},
      body: "hello",
    });
    expect(notJson.status).toBe(415);
  });

  it("serves the OpenAPI document generated from the zod schemas, and an offline docs page", async () => {
    const {status, body} = await getJson(`${srv.url}/openapi.json`);
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    const paths = Object.keys(body.paths as object);
    for (const p of [
      "/health",
      "/metrics",
      "/customers/{id}",
      "/predictions/churn",
      "/predictions/customers/{id}/360",
      "/summaries/customer",
    ])
      expect(paths).toContain(p);
    const schemas = (body.components as {schemas: Record<string, unknown>}).schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        "Problem",
        "Customer",
        "Customer360",
        "PredictionRequest",
        "PredictionResponse",
        "SummaryRequest",
        "SummaryResponse",
      ]),
    );

    const page = await fetch(`${srv.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    // every asset is local: no absolute URL to any other host
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(4);
    for (const s of srcs) {
      const r = await fetch(`${srv.url}${s}`);
      expect(r.status, s).toBe(200);
      expect(Number((await r.arrayBuffer()).byteLength)).toBeGreaterThan(100);
    }
    const init = await (await fetch(`${srv.url}/docs/init.js`)).text();
    expect(init).toContain('url: "/openapi.json"');
    expect(init).toContain("validatorUrl: null");
  });

  it("GET /metrics exposes Prometheus text by route pattern, guardrail and LLM metrics", async () => {
    await getJson(`${srv.url}/customers/${samples[1]!.customer_id}`);
    const r = await fetch(`${srv.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/customers\/:id",status="200"\} \d+/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{method="GET",route="\/customers\/:id",le="0\.025"\} \d+/,
    );
    expect(text).toContain("# TYPE guardrail_passed_total counter");
    expect(text).toContain("# TYPE guardrail_failed_total counter");
    expect(text).toContain("# TYPE llm_request_duration_seconds histogram");
    expect(text).toContain("# TYPE summary_fallbacks_total counter");
    // raw paths (with ids) never become labels
    expect(text).not.toMatch(/route="\/customers\/C0/);
  });

  it("echoes safe request ids and sets security headers", async () => {
    const r = await fetch(`${srv.url}/health`, {headers: {"x-request-id": "trace-1234567890"}});
    expect(r.headers.get("x-request-id")).toBe("trace-1234567890");
    const r2 = await fetch(`${srv.url}/health`, {headers: {"x-request-id": "<script>"}});
    expect(r2.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    for (const h of [
      "content-security-policy",
      "x-content-type-options",
      "x-frame-options",
      "referrer-policy",
      "strict-transport-security",
    ])
      expect(r.headers.get(h), h).toBeTruthy();
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("security", () => {
  const reader = newApiKey("crm", "read");
  const admin = newApiKey("ops", "admin");
  let sec: ApiServer;
  beforeAll(async () => {
    const cfg = loadApiConfig({
      API_KEYS: `${reader.entry},${admin.entry}`,
      ALLOWED_ORIGINS: "https://crm.example.com, http://localhost:3000",
    });
    expect(cfg.apiKeys.map((k) => k.hash.length)).toEqual([32, 32]);
    sec = await start({apiKeys: cfg.apiKeys, allowedOrigins: cfg.allowedOrigins});
  });
  afterAll(async () => {
    await sec?.close();
  });

  it("keys are stored as sha256 hashes only", () => {
    expect(reader.entry).toMatch(/^crm:read:[0-9a-f]{64}$/);
    expect(reader.entry).not.toContain(reader.key);
  });

  it("401 without or with a wrong key, 403 for a role that is not enough, as problem+json", async () => {
    const id = samples[0]!.customer_id;
    const none = await getJson(`${sec.url}/customers/${id}`);
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toMatch(PROBLEM);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect(none.body.errors).toEqual([{field: "header.authorization", message: "missing"}]);
    const wrong = await getJson(`${sec.url}/customers/${id}`, {headers: {authorization: `Bearer ${reader.key}x`}});
    expect(wrong.status).toBe(401);
    const malformed = await getJson(`${sec.url}/customers/${id}`, {headers: {authorization: "Basic Zm9vOmJhcg=="}});
    expect(malformed.status).toBe(401);
    const ok = await getJson(`${sec.url}/customers/${id}`, {headers: {authorization: `Bearer ${reader.key}`}});
    expect(ok.status).toBe(200);
    const viaHeader = await getJson(`${sec.url}/customers/${id}`, {headers: {"x-api-key": reader.key}});
    expect(viaHeader.status).toBe(200);
    const forbidden = await fetch(`${sec.url}/metrics`, {headers: {authorization: `Bearer ${reader.key}`}});
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("content-type")).toMatch(PROBLEM);
    const adminOk = await fetch(`${sec.url}/metrics`, {headers: {authorization: `Bearer ${admin.key}`}});
    expect(adminOk.status).toBe(200);
    const reload = await post(`${sec.url}/admin/reload`, {}, {authorization: `Bearer ${reader.key}`});
    expect(reload.status).toBe(403);
    const reloadOk = await post(`${sec.url}/admin/reload`, {}, {authorization: `Bearer ${admin.key}`});
    expect(reloadOk.status).toBe(200);
    // liveness and docs stay public
    expect((await fetch(`${sec.url}/health`)).status).toBe(200);
    expect((await fetch(`${sec.url}/openapi.json`)).status).toBe(200);
  });

  it("CORS: allow-listed origins only; other origins get no CORS headers and a rejected preflight", async () => {
    const id = samples[0]!.customer_id;
    const auth = {authorization: `Bearer ${reader.key}`};
    const good = await fetch(`${sec.url}/customers/${id}`, {headers: {...auth, origin: "https://crm.example.com"}});
    expect(good.headers.get("access-control-allow-origin")).toBe("https://crm.example.com");
    expect(good.headers.get("vary")).toContain("Origin");
    const bad = await fetch(`${sec.url}/customers/${id}`, {headers: {...auth, origin: "https://evil.example.net"}});
    expect(bad.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(`${sec.url}/predictions/churn`, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:3000",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(pre.headers.get("access-control-allow-headers")).toContain("Authorization");
    const evil = await fetch(`${sec.url}/predictions/churn`, {
      method: "OPTIONS",
      headers: {origin: "https://evil.example.net", "access-control-request-method": "POST"},
    });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect(evil.headers.get("content-type")).toMatch(PROBLEM);
  });

  it("rate limits per key, with Retry-After", async () => {
    const cfg = loadApiConfig({API_KEYS: `${reader.entry},${admin.entry}`});
    const limited = await start({apiKeys: cfg.apiKeys, rateLimitPerMinute: 60, rateLimitBurst: 5});
    try {
      const auth = {authorization: `Bearer ${reader.key}`};
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await fetch(`${limited.url}/customers/${samples[0]!.customer_id}`, {headers: auth})).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      expect(statuses.slice(5)).toEqual([429, 429]);
      const r = await getJson(`${limited.url}/customers/${samples[0]!.customer_id}`, {headers: auth});
      expect(r.status).toBe(429);
      expect(r.headers.get("content-type")).toMatch(PROBLEM);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // another key has its own bucket
      expect(
        (
          await fetch(`${limited.url}/customers/${samples[0]!.customer_id}`, {
            headers: {authorization: `Bearer ${admin.key}`},
          })
        ).status,
      ).toBe(200);
      const m = await (await fetch(`${limited.url}/metrics`, {headers: {authorization: `Bearer ${admin.key}`}})).text();
      expect(m).toMatch(/rate_limited_total\{key="crm"\} 3/);
    } finally {
      await limited.close();
    }
  });

  it("limits the body size (413 problem+json), with or without a Content-Length", async () => {
    const small = await start({bodyLimitBytes: 2048});
    try {
      const big = {instances: samples.slice(0, 10).map((s) => ({features: s.features}))};
      const r = await post(`${small.url}/predictions/churn`, big);
      expect(r.status).toBe(413);
      expect(r.headers.get("content-type")).toMatch(PROBLEM);
      expect(r.body.errors).toEqual([{field: "body", message: "too large"}]);
      // a chunked body (no Content-Length) is counted as it streams
      const chunked = (body: string) =>
        getJson(`${small.url}/predictions/churn`, {
          method: "POST",
          headers: {"content-type": "application/json"},
          body: new ReadableStream({
            start(c) {
              for (let i = 0; i < body.length; i += 500) c.enqueue(new TextEncoder().encode(body.slice(i, i + 500)));
              c.close();
            },
          }),
          duplex: "half",
        } as RequestInit);
      const over = await chunked(JSON.stringify(big));
      expect(over.status).toBe(413);
      expect(over.body.errors).toEqual([{field: "body", message: "too large"}]);
      const under = await chunked(JSON.stringify({features: samples[0]!.features}));
      expect(under.status).toBe(200);
      expect((under.body.predictions as unknown[]).length).toBe(1);
    } finally {
      await small.close();
    }
  });

  it("listens on loopback only without keys, and refuses other addresses without keys", async () => {
    await expect(start({host: "0.0.0.0"})).rejects.toThrow(
      /refusing to listen on a non-loopback address without API keys/,
    );
    const cfg = loadApiConfig({API_KEYS: reader.entry});
    const open = await start({host: "0.0.0.0", apiKeys: cfg.apiKeys});
    try {
      const r = await fetch(`http://127.0.0.1:${open.port}/customers/${samples[0]!.customer_id}`);
      expect(r.status).toBe(401);
    } finally {
      await open.close();
    }
    expect(srv.host).toBe("127.0.0.1");
  });

  it("validates the environment with clear errors naming each variable", () => {
    let err: unknown;
    try {
      loadApiConfig({
        API_PORT: "80a",
        API_KEYS: "just-a-key",
        ALLOWED_ORIGINS: "https://ok.example.com,ftp://x.example.com/path",
        RATE_LIMIT_PER_MINUTE: "0",
        LOG_LEVEL: "loud",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const v of ["API_PORT", "API_KEYS", "ALLOWED_ORIGINS", "RATE_LIMIT_PER_MINUTE", "LOG_LEVEL"])
      expect(msg).toContain(`${v}:`);
    expect(() => loadApiConfig({LLM_MODEL: "m"})).toThrow(/LLM_BASE_URL: must be set/);
    const ok = loadApiConfig({});
    expect(ok.port).toBe(8000);
    expect(ok.host).toBe("127.0.0.1");
    expect(loadApiConfig({PORT: "9001"}).port).toBe(9001);
    expect(loadApiConfig({PORT: "9001", API_PORT: "9002"}).port).toBe(9002);
  });
});

/** The propensity quadrant rule as the configuration states it: the oracle for both quadrants. */
function quadrantOracle(churn: number, expansion: number): string {
  const q = business.quadrant;
  if (churn >= q.highChurn && expansion >= q.highExpansion) return q.labels.flightRisk;
  if (churn < q.lowChurn && expansion >= q.highExpansion) return q.labels.growthEngine;
  if (churn >= q.highChurn && expansion < q.lowExpansion) return q.labels.churnCandidate;
  return q.labels.stableBase;
}
