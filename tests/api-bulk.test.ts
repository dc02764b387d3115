/**
 * The bulk endpoints and the readiness probe over real HTTP on 127.0.0.1, against a real
 * warehouse build: GET /customers and GET /predictions/batch return exactly the accounts the
 * marts say for every filter, pages in a stable order that add up to the whole set once, the
 * NDJSON stream holds the same objects as the pages, a cursor from another build or with other
 * filters is refused by name, a stream keeps reading the build it started on across a reload,
 * and GET /ready tells a loaded server from one without a warehouse or a model.
 */
import {cpSync, mkdirSync, mkdtempSync, renameSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, lit, openWarehouse, run} from "../loaders/duckdb.ts";
import {tierOfProbability} from "../src/rules/config.ts";
import {bulkStream} from "../server/api/bulk.ts";
import {WarehouseStore} from "../server/api/data.ts";
import {createLogger} from "../server/api/log.ts";
import {createApiMetrics} from "../server/api/prometheus.ts";
import {loadReadModel} from "../server/api/queries.ts";
import {Versioned} from "../server/api/refcount.ts";
import {acceptsNdjson} from "../server/api/routes/predictions.ts";
import {newApiKey} from "../server/api/security.ts";
import {loadApiConfig} from "../server/api/settings.ts";
import {startApi, type ApiServer} from "../server/serve-api.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

interface Account {
  customer_id: string;
  risk_tier: string;
  model_tier: string;
  csm_owner: string | null;
  plan_tier: string;
}
type Json = Record<string, unknown>;
interface Answer {
  status: number;
  type: string;
  headers: Headers;
  body: Json;
  text: string;
}

let base = "";
let modelsDir = "";
let root = "";
let srv: ApiServer;
let accounts: Account[] = [];
let builtAt = "";
let asOf = "";

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(url, {headers});
  const text = await r.text();
  const type = r.headers.get("content-type") ?? "";
  return {
    status: r.status,
    type,
    headers: r.headers,
    text,
    body: /^application\/(problem\+)?json/.test(type) ? (JSON.parse(text) as Json) : {},
  };
}

/** Every item of a paged endpoint, following next_cursor; also the pages' sizes. */
async function everyPage(url: string, query: string, headers: Record<string, string> = {}) {
  const items: Json[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  let total = -1;
  for (let guard = 0; guard < 1000; guard++) {
    const a = await get(`${url}?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, headers);
    expect(a.status, a.text).toBe(200);
    const page = a.body as {items: Json[]; next_cursor: string | null; total: number};
    if (total >= 0) expect(page.total).toBe(total);
    total = page.total;
    items.push(...page.items);
    sizes.push(page.items.length);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return {items, sizes, total};
}

const idOf = (x: Json) => ((x.profile as Json | undefined)?.customer_id ?? x.customer_id) as string;
const sortedIds = (xs: Account[]) => xs.map((a) => a.customer_id).sort();

/** A problem+json answer naming `field`. */
function expectProblem(a: Answer, status: number, field: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.type).toMatch(/^application\/problem\+json/);
  expect((a.body.errors as {field: string}[]).map((e) => e.field)).toContain(field);
}

beforeAll(async () => {
  base = await ensureTestWarehouse();
  modelsDir = join(dirname(base), "models");
  root = mkdtempSync(join(tmpdir(), "saasguard-api-bulk-"));
  const w = await openWarehouse(base, {readOnly: true});
  try {
    accounts = await all<Account>(
      w.conn,
      "SELECT customer_id, risk_tier, model_tier, csm_owner, plan_tier FROM marts.mart_customer_risk_scores",
    );
    const [info] = await all<{built_at: string; as_of: string}>(
      w.conn,
      "SELECT CAST(built_at AS VARCHAR) AS built_at, CAST(as_of AS VARCHAR) AS as_of FROM marts.build_info",
    );
    ({built_at: builtAt, as_of: asOf} = info!);
  } finally {
    w.close();
  }
  srv = await startTestApi({
    warehousePath: base,
    modelsDir,
    rateLimitPerMinute: 1_000_000,
    rateLimitBurst: 100_000,
  });
});

afterAll(async () => {
  await srv?.close();
  rmSync(root, {recursive: true, force: true});
});

describe("GET /customers", () => {
  it("returns exactly the accounts each filter names, in customer_id order", async () => {
    expect(accounts.length).toBeGreaterThan(300);
    const owner = accounts.find((a) => a.csm_owner)!.csm_owner!;
    const plan = accounts[0]!.plan_tier;
    const cases: [string, (a: Account) => boolean][] = [
      ["", () => true],
      ["tier=High,Critical", (a) => a.risk_tier === "High" || a.risk_tier === "Critical"],
      ["model_tier=Low", (a) => a.model_tier === "Low"],
      [`owner=${encodeURIComponent(owner)}`, (a) => a.csm_owner === owner],
      // plan names are the installation's own words, matched in any letter case
      [`plan=${encodeURIComponent(plan.toLowerCase())}`, (a) => a.plan_tier === plan],
      [
        `plan=${encodeURIComponent(plan)}&model_tier=Medium,High&tier=Low,Medium,High`,
        (a) => a.plan_tier === plan && ["Medium", "High"].includes(a.model_tier) && a.risk_tier !== "Critical",
      ],
      ["owner=nobody-owns-this", () => false],
    ];
    for (const [q, keep] of cases) {
      const a = await get(`${srv.url}/customers?limit=1000&${q}`);
      expect(a.status, a.text).toBe(200);
      const page = a.body as {items: Json[]; total: number; next_cursor: string | null; data: Json};
      const expected = sortedIds(accounts.filter(keep));
      expect(page.items.map(idOf), q).toEqual(expected);
      expect(page.total).toBe(expected.length);
      expect(page.next_cursor).toBeNull();
      expect(page.data).toEqual({built_at: builtAt, as_of: asOf});
    }
  });

  it("pages through every account once, in a stable order, each as GET /customers/{id} gives it", async () => {
    const first = await everyPage(`${srv.url}/customers`, "limit=37");
    const ids = first.items.map(idOf);
    expect(ids).toEqual(sortedIds(accounts));
    expect(new Set(ids).size).toBe(ids.length);
    expect(first.sizes.slice(0, -1).every((n) => n === 37)).toBe(true);
    // the same pages again: same accounts at the same places
    const again = await everyPage(`${srv.url}/customers`, "limit=37");
    expect(again.items.map(idOf)).toEqual(ids);
    for (const k of [0, 100, ids.length - 1]) {
      const one = await get(`${srv.url}/customers/${ids[k]}`);
      const {data: _data, ...record} = one.body;
      expect(first.items[k]).toEqual(record);
    }
    // a filtered listing pages the same way
    const high = await everyPage(`${srv.url}/customers`, "limit=5&model_tier=High,Critical");
    expect(high.items.map(idOf)).toEqual(
      sortedIds(accounts.filter((a) => a.model_tier === "High" || a.model_tier === "Critical")),
    );
  });

  it("changed_since lists the accounts whose model or health tier changed since that history point", async () => {
    const w = await openWarehouse(base, {readOnly: true});
    let points: string[];
    let model: {customer_id: string; p: number}[];
    let health: {customer_id: string; tier: string}[];
    try {
      points = (
        await all<{d: string}>(
          w.conn,
          "SELECT DISTINCT CAST(as_of_date AS VARCHAR) AS d FROM marts.mart_churn_score_history ORDER BY d",
        )
      ).map((r) => r.d);
      model = await all(
        w.conn,
        `SELECT customer_id, churn_probability AS p FROM marts.mart_churn_score_history WHERE as_of_date = DATE ${lit(points[0]!)}`,
      );
      health = await all(
        w.conn,
        `SELECT customer_id, risk_tier AS tier FROM marts.mart_health_score_history WHERE as_of_date = DATE ${lit(points[0]!)}`,
      );
    } finally {
      w.close();
    }
    expect(points.length).toBeGreaterThan(2);
    expect(points.at(-1)).toBe(asOf);
    // the tiers then, tiered here by the config (not by the server's SQL)
    const modelThen = new Map(model.map((r) => [r.customer_id, tierOfProbability(r.p)]));
    const healthThen = new Map(health.map((r) => [r.customer_id, r.tier]));
    const expected = sortedIds(
      accounts.filter(
        (a) => modelThen.get(a.customer_id) !== a.model_tier || healthThen.get(a.customer_id) !== a.risk_tier,
      ),
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(accounts.length);
    const since = await everyPage(`${srv.url}/customers`, `limit=50&changed_since=${points[0]}`);
    expect(since.items.map(idOf)).toEqual(expected);
    // a date between two points is compared with the earlier one: a sync never misses a change
    const between = await get(`${srv.url}/customers?limit=1&changed_since=${points[0]!.slice(0, 8)}20`);
    expect(between.body.changed_since).toEqual({requested: `${points[0]!.slice(0, 8)}20`, compared_with: points[0]});
    expect(between.body.total).toBe(expected.length);
    // this build, by its time as every answer gives it: nothing changed since
    const now = await get(`${srv.url}/customers?changed_since=${encodeURIComponent(builtAt)}`);
    expect(now.body).toMatchObject({total: 0, items: [], changed_since: {requested: builtAt, compared_with: asOf}});
    // before the history starts: refused, saying where it starts
    const early = await get(`${srv.url}/customers?changed_since=2000-01-01`);
    expectProblem(early, 422, "query.changed_since");
    expect(early.body.detail).toContain(points[0]);
  });

  it("refuses a bad limit, filter, cursor or parameter with a problem naming the field", async () => {
    const cases: [string, string][] = [
      ["limit=0", "query.limit"],
      ["limit=1001", "query.limit"],
      ["limit=ten", "query.limit"],
      ["limit=2.5", "query.limit"],
      ["tier=Severe", "query.tier"],
      ["model_tier=high", "query.model_tier"],
      ["tier=High&tier=Low", "query.tier"],
      ["owner=", "query.owner"],
      ["plan=", "query.plan"],
      ["changed_since=yesterday", "query.changed_since"],
      ["changed_since=2026-02-30", "query.changed_since"],
      ["cursor=not-a-cursor", "query.cursor"],
      [`cursor=${Buffer.from('{"v":1}').toString("base64url")}`, "query.cursor"],
      ["tiers=High", "query"],
    ];
    for (const [q, field] of cases) {
      const a = await get(`${srv.url}/customers?${q}`);
      expectProblem(a, 422, field);
      expect(a.body.request_id).toBeTruthy();
    }
    // a cursor is for the filters it was issued with
    const page = await get(`${srv.url}/customers?limit=2&model_tier=Low`);
    const cursor = page.body.next_cursor as string;
    expect((await get(`${srv.url}/customers?limit=2&model_tier=Low&cursor=${cursor}`)).status).toBe(200);
    const other = await get(`${srv.url}/customers?limit=2&model_tier=High&cursor=${cursor}`);
    expectProblem(other, 422, "query.cursor");
    expect(other.body.detail).toContain("other filters");
  });
});

describe("GET /predictions/batch", () => {
  it("pages every account's scores with the drivers of its 360 view", async () => {
    const all = await everyPage(`${srv.url}/predictions/batch`, "limit=250");
    expect(all.items.map(idOf)).toEqual(sortedIds(accounts));
    const first = await get(`${srv.url}/predictions/batch?limit=1`);
    expect(first.body.scored_by_model_version).toEqual(expect.any(String));
    for (const item of [all.items[0]!, all.items[123]!]) {
      const v = (await get(`${srv.url}/predictions/customers/${item.customer_id}/360`)).body as {
        scores: Json;
        drivers: Json[];
        profile: Json;
      };
      expect(item).toEqual({
        customer_id: v.profile.customer_id,
        company_name: v.profile.company_name,
        churn_probability: v.scores.churn_probability,
        model_tier: v.scores.model_tier,
        expected_arr_loss_90d: v.scores.expected_arr_loss_90d,
        health_score: v.scores.health_score,
        risk_tier: v.scores.risk_tier,
        arr_at_risk: v.scores.arr_at_risk,
        recommended_action: expect.any(String),
        drivers: v.drivers,
      });
      expect((item.drivers as Json[]).length).toBeGreaterThan(0);
      // drivers in words for a reader, the column name for a machine
      for (const d of item.drivers as Json[]) {
        expect(d.label).toEqual(expect.any(String));
        expect(d.label).not.toMatch(/_/);
        expect(d.description).toEqual(expect.any(String));
      }
    }
  });

  it("streams every account as NDJSON, line for line the objects of the JSON pages", async () => {
    const pages = await everyPage(`${srv.url}/predictions/batch`, "limit=100");
    const ways: [string, Record<string, string>][] = [
      ["", {accept: "application/x-ndjson"}],
      ["?format=ndjson", {}],
    ];
    for (const [query, headers] of ways) {
      const a = await get(`${srv.url}/predictions/batch${query}`, headers);
      expect(a.status).toBe(200);
      expect(a.type).toBe("application/x-ndjson; charset=utf-8");
      expect(a.text.endsWith("\n")).toBe(true);
      const lines = a.text.trimEnd().split("\n");
      expect(lines.length).toBe(accounts.length);
      expect(a.headers.get("x-total-count")).toBe(String(accounts.length));
      expect(a.headers.get("x-data-built-at")).toBe(builtAt);
      expect(a.headers.get("x-model-version")).toEqual(expect.any(String));
      expect(lines.map((l) => JSON.parse(l) as Json)).toEqual(pages.items);
    }
    // filtered, and resumed after an account with a cursor
    const page = await get(`${srv.url}/predictions/batch?limit=3&model_tier=Low,Medium`);
    const rest = await get(
      `${srv.url}/predictions/batch?format=ndjson&model_tier=Low,Medium&cursor=${page.body.next_cursor as string}`,
    );
    const low = sortedIds(accounts.filter((a) => a.model_tier === "Low" || a.model_tier === "Medium"));
    expect(
      rest.text
        .trimEnd()
        .split("\n")
        .map((l) => (JSON.parse(l) as Json).customer_id),
    ).toEqual(low.slice(3));
    expect(rest.headers.get("x-total-count")).toBe(String(low.length));
    // HEAD: the headers alone
    const head = await fetch(`${srv.url}/predictions/batch?format=ndjson`, {method: "HEAD"});
    expect([head.status, head.headers.get("x-total-count"), await head.text()]).toEqual([
      200,
      String(accounts.length),
      "",
    ]);
    // nothing matches: an empty stream, not an error
    const none = await get(`${srv.url}/predictions/batch?format=ndjson&owner=nobody-owns-this`);
    expect([none.status, none.text, none.headers.get("x-total-count")]).toEqual([200, "", "0"]);
    // explicit JSON wins over the Accept header; errors stay problem+json
    const json = await get(`${srv.url}/predictions/batch?format=json&limit=1`, {accept: "application/x-ndjson"});
    expect(json.type).toMatch(/^application\/json/);
    expectProblem(await get(`${srv.url}/predictions/batch?format=csv`), 422, "query.format");
    expectProblem(
      await get(`${srv.url}/predictions/batch?limit=0`, {accept: "application/x-ndjson"}),
      422,
      "query.limit",
    );
  });

  it("reads NDJSON off the Accept header only when the client prefers it to JSON", () => {
    expect(acceptsNdjson("application/x-ndjson")).toBe(true);
    expect(acceptsNdjson("application/x-ndjson, application/json;q=0.5")).toBe(true);
    expect(acceptsNdjson("application/json, application/x-ndjson;q=0.5")).toBe(false);
    expect(acceptsNdjson("application/x-ndjson;q=0")).toBe(false);
    expect(acceptsNdjson("*/*")).toBe(false);
    expect(acceptsNdjson(undefined)).toBe(false);
  });
});

describe("a new build while clients read", () => {
  let live: ApiServer;
  let dataDir = "";
  const livePath = () => join(dataDir, "warehouse.duckdb");

  /** A "new build" swapped in by rename, as `npm run build` does: new build time, one account now Critical. */
  async function swapInBuild(builtAtNew: string, changedId: string): Promise<void> {
    const tmp = join(dataDir, ".next.tmp");
    cpSync(base, tmp);
    const w = await openWarehouse(tmp);
    try {
      await run(w.conn, `UPDATE marts.build_info SET built_at = TIMESTAMP ${lit(builtAtNew)}`);
      await run(
        w.conn,
        `UPDATE marts.mart_customer_risk_scores SET churn_probability = 0.9, model_tier = 'Critical' WHERE customer_id = ${lit(changedId)}`,
      );
      await run(w.conn, "CHECKPOINT");
    } finally {
      w.close();
    }
    renameSync(tmp, livePath());
  }

  beforeAll(async () => {
    dataDir = join(root, "live");
    mkdirSync(dataDir);
    cpSync(base, livePath());
    live = await startTestApi({
      warehousePath: livePath(),
      modelsDir,
      rateLimitPerMinute: 1_000_000,
      rateLimitBurst: 100_000,
    });
  });
  afterAll(() => live?.close());

  it("refuses a cursor of the build before with 409, and pages the new build from the start", async () => {
    const page = await get(`${live.url}/predictions/batch?limit=10`);
    const cursor = page.body.next_cursor as string;
    const changed = sortedIds(accounts).find((id) => accounts.find((a) => a.customer_id === id)!.model_tier === "Low")!;
    await swapInBuild("2030-01-02 03:04:05", changed);
    await live.warehouse.check();
    const ready = await get(`${live.url}/ready`);
    expect((ready.body.data as Json).built_at).toBe("2030-01-02 03:04:05");

    const stale = await get(`${live.url}/predictions/batch?limit=10&cursor=${cursor}`);
    expectProblem(stale, 409, "query.cursor");
    expect(stale.body.type).toBe("https://saasguard.dev/problems/cursor-from-another-build");
    expect(stale.body.detail).toContain(builtAt);
    const fresh = await everyPage(`${live.url}/predictions/batch`, "limit=200");
    expect(fresh.items.find((x) => x.customer_id === changed)).toMatchObject({model_tier: "Critical"});
  });

  it("keeps a stream on the build it started with until its last line, then lets that build go", async () => {
    const log = createLogger("silent");
    const store = new WarehouseStore(livePath(), log, createApiMetrics(), loadReadModel);
    try {
      await store.check();
      const old = store.current!;
      const oldBuild = old.info.built_at;
      const held = store.hold();
      let released = 0;
      const {stream, total} = await bulkStream(held.value, "prediction", {}, undefined, {
        stallMs: 60_000,
        done: () => {
          released++;
          held.release();
        },
      });
      const reader = stream.getReader();
      const decoder = new TextDecoder();
      let text = decoder.decode((await reader.read()).value, {stream: true});

      // a new build lands mid-stream, changing the last account the stream has yet to write
      const lastId = sortedIds(accounts).at(-1)!;
      expect(text).not.toContain(lastId);
      await swapInBuild("2031-05-06 07:08:09", lastId);
      await store.check();
      expect(store.current!.info.built_at).toBe("2031-05-06 07:08:09");
      // the old build is still open for the stream
      expect(await old.query("SELECT 1 AS one")).toEqual([{one: 1}]);
      expect(released).toBe(0);

      for (let r = await reader.read(); !r.done; r = await reader.read())
        text += decoder.decode(r.value, {stream: true});
      const lines = text
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as {customer_id: string; model_tier: string});
      expect(lines.length).toBe(total);
      // the whole stream is the old build's
      const last = lines.at(-1)!;
      expect(last.customer_id).toBe(lastId);
      expect(last.model_tier).toBe(accounts.find((a) => a.customer_id === lastId)!.model_tier);
      expect(released).toBe(1);
      // released once the last line was taken: the replaced build is closed now
      await expect(old.query("SELECT 1")).rejects.toThrow();
      expect(oldBuild).not.toBe(store.current!.info.built_at);
    } finally {
      store.close();
    }
  });

  it("ends a stream the client stopped reading, and a cancelled one, releasing the build", async () => {
    const store = new WarehouseStore(livePath(), createLogger("silent"), createApiMetrics(), loadReadModel);
    try {
      await store.check();
      let released = 0;
      const stalled = await bulkStream(store.current!, "customer", {}, undefined, {
        stallMs: 150,
        done: () => released++,
      });
      const reader = stalled.stream.getReader();
      await reader.read(); // one chunk, then nothing
      await new Promise((r) => setTimeout(r, 400));
      expect(released).toBe(1);
      await expect(reader.read()).rejects.toThrow(/took no data/);

      const cancelled = await bulkStream(store.current!, "customer", {}, undefined, {
        stallMs: 60_000,
        done: () => released++,
      });
      const r2 = cancelled.stream.getReader();
      await r2.read();
      await r2.cancel();
      expect(released).toBe(2);
    } finally {
      store.close();
    }
  });

  it("Versioned.hold keeps a replaced version until released, once", () => {
    const disposed: string[] = [];
    const v = new Versioned<string>(
      (x) => void disposed.push(x),
      () => new Error("none"),
    );
    expect(() => v.hold()).toThrow("none");
    v.swap("a");
    const h = v.hold();
    v.swap("b");
    expect(disposed).toEqual([]);
    h.release();
    h.release();
    expect(disposed).toEqual(["a"]);
  });
});

describe("GET /ready", () => {
  it("is 200 with the build and model once both are loaded", async () => {
    const a = await get(`${srv.url}/ready`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      status: "ready",
      data: {built_at: builtAt, as_of: asOf},
      model: {version: expect.any(String)},
    });
  });

  it("is a 503 problem naming what is missing, while /health stays 200", async () => {
    const empty = join(root, "no-models");
    mkdirSync(empty);
    const noData = await startTestApi({warehousePath: join(root, "missing", "warehouse.duckdb"), modelsDir});
    const noModel = await startTestApi({warehousePath: base, modelsDir: empty});
    try {
      const a = await get(`${noData.url}/ready`);
      expect(a.status).toBe(503);
      expect(a.type).toMatch(/^application\/problem\+json/);
      expect(a.body.detail).toMatch(/no warehouse build is loaded/);
      expect(a.body.detail).not.toMatch(/churn model/);
      expect(a.headers.get("retry-after")).toBe("5");
      expect((await get(`${noData.url}/health`)).status).toBe(200);

      const b = await get(`${noModel.url}/ready`);
      expect(b.status).toBe(503);
      expect(b.body.detail).toMatch(/no churn model is loaded/);
      // the model arrives: ready without a restart
      cpSync(modelsDir, empty, {recursive: true});
      await noModel.models.check();
      expect((await get(`${noModel.url}/ready`)).status).toBe(200);
    } finally {
      await noData.close();
      await noModel.close();
    }
  });
});

describe("the start-up warm-up", () => {
  it("sends predictions through the whole path before the port opens, never into the server's log or metrics", async () => {
    const lines: string[] = [];
    const s = await startApi({
      env: {},
      overrides: {
        port: 0,
        host: "127.0.0.1",
        warehousePath: base,
        modelsDir,
        reloadPollMs: 0,
        store: "sqlite::memory:",
      },
      log: createLogger("info", (l) => void lines.push(l)),
    });
    try {
      expect(s.config.warmUpRequests).toBe(1024);
      const logged = () => lines.map((l) => JSON.parse(l) as {msg: string; route?: string});
      expect(logged().filter((l) => l.msg === "request")).toEqual([]);
      expect(logged().some((l) => l.msg.includes("warm-up"))).toBe(false); // no request was refused
      const metrics = (await get(`${s.url}/metrics`)).text;
      expect(metrics).toMatch(/^predictions_rows_total 0$/m);
      expect(metrics).not.toMatch(/route="\/predictions\/churn"/);
      // a real request is logged and counted as before
      const features = s.models.current!.sampleRows(1)[0]!;
      const r = await fetch(`${s.url}/predictions/churn`, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({features}),
      });
      expect(r.status).toBe(200);
      expect(logged().filter((l) => l.msg === "request" && l.route === "/predictions/churn")).toHaveLength(1);
      expect((await get(`${s.url}/metrics`)).text).toMatch(/^predictions_rows_total 1$/m);
    } finally {
      await s.close();
    }
  });
});

describe("with API keys", () => {
  it("needs a key for the bulk endpoints, not for the probes, and documents both", async () => {
    const read = newApiKey("crm-sync", "read");
    const keyed = await startTestApi({
      warehousePath: base,
      modelsDir,
      apiKeys: loadApiConfig({API_KEYS: read.entry}).apiKeys,
    });
    try {
      const auth = {authorization: `Bearer ${read.key}`};
      for (const path of ["/customers", "/predictions/batch", "/predictions/batch?format=ndjson"]) {
        expectProblem(await get(`${keyed.url}${path}`), 401, "header.authorization");
        expect((await get(`${keyed.url}${path}`, auth)).status).toBe(200);
      }
      expect((await get(`${keyed.url}/ready`)).status).toBe(200);
      const doc = (await get(`${keyed.url}/openapi.json`)).body as {
        security: unknown[];
        paths: Record<string, {get: {security?: unknown[]; responses: Record<string, unknown>}}>;
      };
      expect(doc.security).toEqual([{bearer: []}]);
      for (const p of ["/customers", "/predictions/batch"]) {
        expect(doc.paths[p]!.get.security).toBeUndefined(); // the document's bearer applies
        expect(Object.keys(doc.paths[p]!.get.responses)).toEqual(
          expect.arrayContaining(["200", "401", "403", "409", "422", "429", "503"]),
        );
      }
      expect(doc.paths["/ready"]!.get.security).toEqual([]);
      expect(Object.keys(doc.paths["/predictions/batch"]!.get.responses["200"] as Json)).toBeTruthy();
    } finally {
      await keyed.close();
    }
  });
});
