/**
 * What a hostile web page, a key-guesser and a careless client tried against the API over real
 * HTTP on 127.0.0.1, each a regression test: DNS rebinding and cross-origin writes without keys,
 * wrong keys never rate-limited, unknown-key floods, and feature values no account can have.
 */
import {readFileSync} from "node:fs";
import {request} from "node:http";
import {connect} from "node:net";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {ApiServer} from "../server/serve-api.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {newApiKey} from "../server/api/security.ts";
import {loadApiConfig, type ApiConfig} from "../server/api/settings.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let warehousePath = "";
let modelsDir = "";
let features: Record<string, unknown> = {};
let customerId = "";
const servers: ApiServer[] = [];

async function start(overrides: Partial<ApiConfig> = {}): Promise<ApiServer> {
  const s = await startTestApi({warehousePath, modelsDir, ...overrides});
  servers.push(s);
  return s;
}

/** A raw HTTP request, so the Host header can be anything (fetch sets it from the URL). */
function raw(
  s: ApiServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{status: number; headers: Record<string, string | string[] | undefined>; text: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host: "127.0.0.1", port: s.port, method, path, headers}, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({status: res.statusCode!, headers: res.headers, text}));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const predict = (s: ApiServer, body: unknown) =>
  fetch(`${s.url}/predictions/churn`, {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  warehousePath = await ensureTestWarehouse();
  modelsDir = join(dirname(warehousePath), "models");
  const [sample] = await sampleFeatureRows(warehousePath, modelsDir, 1);
  customerId = sample!.customer_id;
  // a real account's features, moved into the range the shipped model was trained on
  const card = JSON.parse(readFileSync(join(modelsDir, "churn_model.card.json"), "utf8")) as {
    features: {name: string; range?: {min: number; max: number}}[];
  };
  features = {...sample!.features};
  for (const f of card.features) {
    const v = features[f.name];
    if (f.range && typeof v === "number") features[f.name] = Math.min(f.range.max, Math.max(f.range.min, v));
  }
}, 600_000);
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe("without API keys: only local programs, not the web pages the CSM visits", () => {
  it("a request addressed to a non-loopback Host name (DNS rebinding) is refused; loopback names are served", async () => {
    const s = await start();
    const rebound = await raw(s, "GET", `/customers/${customerId}`, {host: `rebind.attacker.example:${s.port}`});
    expect(rebound.status).toBe(421);
    expect(rebound.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(rebound.text).toContain("DNS rebinding");
    expect(rebound.text).not.toMatch(/company_name|csm_owner|"arr"/);
    for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, "localhost", "127.0.0.2"])
      expect((await raw(s, "GET", `/customers/${customerId}`, {host})).status, host).toBe(200);
    expect((await raw(s, "GET", "/health", {host: "evil.example"})).status).toBe(421);
  });

  it("a state-changing request from another origin is refused, from the local site or an allowed origin it is not", async () => {
    const s = await start({allowedOrigins: ["https://crm.example.com"]});
    const host = `127.0.0.1:${s.port}`;
    const post = (headers: Record<string, string>) =>
      raw(s, "POST", "/admin/reload", {host, "content-type": "text/plain", ...headers}, "x");
    expect((await post({origin: "https://evil.example"})).status).toBe(403);
    expect((await post({origin: "null"})).status).toBe(403);
    expect((await post({"sec-fetch-site": "cross-site"})).status).toBe(403);
    expect((await post({origin: "http://127.0.0.1:3000"})).status).toBe(200);
    expect((await post({origin: "http://localhost:3000"})).status).toBe(200);
    expect((await post({origin: "https://crm.example.com"})).status).toBe(200);
    expect((await post({})).status).toBe(200); // curl, scripts
  });

  it("with API keys the Host may be any name (behind a proxy), and keys decide", async () => {
    const k = newApiKey("crm", "read");
    const keys = loadApiConfig({API_KEYS: k.entry, API_HOST: "127.0.0.1"}).apiKeys;
    const s = await start({apiKeys: keys});
    const r = await raw(s, "GET", `/customers/${customerId}`, {
      host: "saasguard.internal.example",
      authorization: `Bearer ${k.key}`,
    });
    expect(r.status).toBe(200);
  });
});

describe("wrong API keys", () => {
  it("are rate-limited per client address like any request", async () => {
    const k = newApiKey("crm", "read");
    const keys = loadApiConfig({API_KEYS: k.entry, API_HOST: "127.0.0.1"}).apiKeys;
    const s = await start({apiKeys: keys, rateLimitBurst: 3, rateLimitPerMinute: 1});
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await fetch(`${s.url}/customers/${customerId}`, {headers: {authorization: `Bearer sg_wrong_${i}`}})).status,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe("prediction bodies that cost more than they are worth", () => {
  it("85,000 unknown feature keys are refused at once with a short answer", async () => {
    const s = await start();
    const flood: Record<string, unknown> = {...features};
    for (let i = 0; i < 85_000; i++) flood[`k${i}`] = 1;
    const body = JSON.stringify({features: flood});
    expect(body.length).toBeGreaterThan(800_000);
    const r = await predict(s, body);
    const text = await r.text();
    expect(r.status).toBe(422);
    expect(text.length).toBeLessThan(5_000);
    const problem = JSON.parse(text) as {detail: string; errors: {field: string}[]};
    expect(problem.detail).toMatch(/^an object in the body has more than \d+ keys; .* refused unread$/);
    expect(problem.errors).toEqual([{field: "body", message: expect.stringMatching(/more than \d+ keys/)}]);
  });

  it("a feature object with a dozen unknown keys is refused naming the first ten and counting all", async () => {
    const s = servers[0] ?? (await start());
    const extra = Object.fromEntries(Array.from({length: 12}, (_, i) => [`junk_${i}`, 1]));
    const r = await predict(s, {instances: [{features}, {features: {...features, ...extra}}]});
    expect(r.status).toBe(422);
    const problem = (await r.json()) as {detail: string; errors: {field: string}[]};
    expect(problem.detail).toMatch(
      /^12 unknown features \(the first 10 are listed\): body\.instances\[1\]\.features\.junk_0/,
    );
    expect(problem.errors).toHaveLength(10);
  });

  it("a batch over the limit is refused before its items are validated; a few stray keys still get zod's full answer", async () => {
    const s = await start({predictionBatchLimit: 5});
    const many = await predict(s, {instances: Array.from({length: 5000}, () => ({features: {x: 1}}))});
    expect(many.status).toBe(422);
    const text = await many.text();
    expect(text.length).toBeLessThan(2_000);
    expect(text).toContain("at most 5 instances");
    const few = await predict(s, {features: {...features, arr: "lots", stray: 1}});
    const errors = ((await few.json()) as {errors: {field: string}[]}).errors.map((e) => e.field);
    expect(errors).toEqual(expect.arrayContaining(["body.features.arr", "body.features.stray"]));
  });
});

describe("feature values no account can have", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["arr = 1e308", {arr: 1e308}, /body\.features\.arr.*implausible/],
    ["a negative count", {tickets_30d: -3}, /body\.features\.tickets_30d.*must be ≥ 0/],
    ["a boolean for a count", {events_last_30d: true}, /body\.features\.events_last_30d.*not a yes\/no flag/],
    ["a fraction of a count", {logins_30d: 2.5}, /body\.features\.logins_30d.*whole number/],
  ];
  it.each(cases)("%s is a 422 naming the feature and the trained range", async (_, change, message) => {
    const s = servers[0] ?? (await start());
    const r = await predict(s, {features: {...features, ...change}});
    expect(r.status).toBe(422);
    expect(JSON.stringify(await r.json())).toMatch(message);
  });

  it("a __proto__ key is an unknown feature, not a score", async () => {
    const s = servers[0] ?? (await start());
    const body = JSON.stringify({features}).replace(/^\{"features":\{/, '{"features":{"__proto__":{"arr":1},');
    const r = await predict(s, body);
    expect(r.status).toBe(422);
    expect(JSON.stringify(await r.json())).toContain("body.features.__proto__");
  });

  it("a plausible value outside the training range is scored and flagged; in-range values and yes/no flags are not", async () => {
    const s = servers[0] ?? (await start());
    const plain = (await (await predict(s, {features})).json()) as {
      predictions: {out_of_training_range: unknown[]}[];
    };
    expect(plain.predictions[0]!.out_of_training_range).toEqual([]);
    const big = (await (
      await predict(s, {features: {...features, arr: 2_000_000, has_open_renewal_opp: true}})
    ).json()) as {
      predictions: {
        churn_probability: number;
        out_of_training_range: {feature: string; value: number; max: number}[];
      }[];
    };
    expect(big.predictions[0]!.churn_probability).toBeGreaterThan(0);
    expect(big.predictions[0]!.out_of_training_range).toEqual([
      expect.objectContaining({feature: "arr", value: 2_000_000}),
    ]);
    expect(big.predictions[0]!.out_of_training_range[0]!.max).toBeLessThan(2_000_000);
  });
});

/** Sends raw bytes on a new connection and collects everything the server answers until it closes. */
function rawExchange(
  s: ApiServer,
  chunks: string[],
  gapMs = 0,
): Promise<{status: number; headers: string; body: string; ms: number}> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = connect(s.port, "127.0.0.1");
    let got = "";
    let timer: NodeJS.Timeout | undefined;
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (got += d));
    sock.on("error", reject);
    sock.on("close", () => {
      clearInterval(timer);
      const [head = "", body = ""] = got.split("\r\n\r\n");
      resolve({status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body, ms: performance.now() - t0});
    });
    const queue = [...chunks];
    const send = () => {
      const next = queue.shift();
      if (next === undefined) return clearInterval(timer);
      if (!sock.destroyed) sock.write(next);
    };
    send();
    if (gapMs) timer = setInterval(send, gapMs);
    else while (queue.length) send();
  });
}

describe("what the HTTP parser refuses, and bodies that trickle in", () => {
  it("a malformed request and oversized headers get problem+json with a request id, not a bare status line", async () => {
    const s = servers[0] ?? (await start());
    const garbage = await rawExchange(s, ["GARBAGE / NOT-HTTP\r\n\r\n"]);
    expect(garbage.status).toBe(400);
    for (const r of [
      garbage,
      await rawExchange(s, [`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]),
    ]) {
      expect(r.headers).toContain("content-type: application/problem+json");
      expect(r.headers).toMatch(/x-request-id: [0-9a-f-]{36}/);
      const p = JSON.parse(r.body) as {status: number; request_id: string; detail: string};
      expect(p.status).toBe(r.status);
      expect(r.headers).toContain(`x-request-id: ${p.request_id}`);
    }
    expect(
      (await rawExchange(s, [`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`]))
        .status,
    ).toBe(431);
  });

  it("a chunked body sent a byte at a time ends at REQUEST_TIMEOUT_MS with a 408 problem, logged as 408", async () => {
    const s = await start({requestTimeoutMs: 1000});
    const head = `POST /predictions/churn HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const r = await rawExchange(s, [head, ...Array.from({length: 60}, () => "1\r\n{\r\n")], 100);
    expect(r.status).toBe(408);
    expect(r.ms).toBeLessThan(4000); // the app's timeout, not Node's backstop (REQUEST_TIMEOUT_MS + 5 s)
    expect(r.headers).toContain("content-type: application/problem+json");
    expect(r.headers).toMatch(/x-request-id: /);
    expect(JSON.parse(r.body.replace(/^[0-9a-f]+\r\n/, "").replace(/\r\n0\r\n$/, "")).detail).toContain(
      "did not arrive within 1000 ms",
    );
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/status="408"/);
    expect(metrics).not.toMatch(/status="500"/);
  });
});
