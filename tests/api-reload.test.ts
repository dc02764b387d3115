/**
 * Hot reload under load: while clients keep calling the API, a new warehouse build is swapped in
 * by rename (as `npm run build` does) and a new model card is promoted. The server picks both up
 * without a restart and without a single failed request; a broken file is refused and the
 * previous build keeps serving.
 */
import {startTestApi} from "./helpers/test-api.ts";
import {cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import os from "node:os";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, expect, it} from "vitest";
import {all, lit, openWarehouse, run} from "../loaders/duckdb.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let dir = "";
let base = "";
let srv: ApiServer;
let features: Record<string, unknown>[] = [];
let ids: string[] = [];

const live = () => join(dir, "data", "warehouse.duckdb");

/** A "new build": a copy of the base warehouse with a new build time and one account changed. */
async function makeBuild(name: string, builtAt: string, flightRiskId: string): Promise<string> {
  const p = join(dir, "data", `.${name}.tmp`);
  cpSync(base, p);
  const w = await openWarehouse(p);
  try {
    await run(w.conn, `UPDATE marts.build_info SET built_at = TIMESTAMP ${lit(builtAt)}`);
    await run(
      w.conn,
      `UPDATE marts.mart_customer_risk_scores SET churn_probability = 0.7, model_tier = 'Critical' WHERE customer_id = ${lit(flightRiskId)}`,
    );
    await run(
      w.conn,
      `UPDATE marts.mart_customer_expansion_features SET upgrade_propensity_proxy = 0.8 WHERE customer_id = ${lit(flightRiskId)}`,
    );
    // the quadrant mart places the account as a real build would from those numbers
    await run(
      w.conn,
      `UPDATE marts.mart_propensity_quadrant SET churn_probability = 0.7, upgrade_propensity_proxy = 0.8, model_quadrant = 'Flight Risk' WHERE customer_id = ${lit(flightRiskId)}`,
    );
    await run(w.conn, "CHECKPOINT");
  } finally {
    w.close();
  }
  return p;
}

async function waitFor(cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting for the reload");
}

async function health(): Promise<{data: {built_at: string}; model: {version: string}}> {
  return (await (await fetch(`${srv.url}/health`)).json()) as {data: {built_at: string}; model: {version: string}};
}

beforeAll(async () => {
  base = await ensureTestWarehouse();
  dir = mkdtempSync(join(os.tmpdir(), "saasguard-api-reload-"));
  mkdirSync(join(dir, "data"));
  cpSync(base, live());
  cpSync(join(dirname(base), "models"), join(dir, "models"), {recursive: true});
  features = (await sampleFeatureRows(base, join(dir, "models"), 30)).map((s) => s.features);
  const w = await openWarehouse(base, {readOnly: true});
  try {
    ids = (
      await all<{customer_id: string}>(
        w.conn,
        "SELECT customer_id FROM marts.mart_customer_risk_scores ORDER BY customer_id LIMIT 50",
      )
    ).map((r) => r.customer_id);
  } finally {
    w.close();
  }
  srv = await startTestApi({
    warehousePath: live(),
    modelsDir: join(dir, "models"),
    reloadPollMs: 200,
    rateLimitPerMinute: 1_000_000,
    rateLimitBurst: 100_000,
  });
});

afterAll(async () => {
  await srv?.close();
  rmSync(dir, {recursive: true, force: true});
});

it("swaps in a new warehouse build and a new model under load without a failed request", async () => {
  const before = await health();
  const flight = ids[7]!;
  const first = (await (await fetch(`${srv.url}/predictions/customers/${flight}/360`)).json()) as {
    is_flight_risk: boolean;
  };
  expect(first.is_flight_risk).toBe(false);

  const statuses = new Map<number, number>();
  const errors: string[] = [];
  let stop = false;
  let n = 0;
  const worker = async (k: number) => {
    while (!stop) {
      const i = n++;
      const id = ids[i % ids.length]!;
      const kind = (i + k) % 3;
      try {
        const r =
          kind === 0
            ? await fetch(`${srv.url}/customers/${id}`)
            : kind === 1
              ? await fetch(`${srv.url}/predictions/customers/${id}/360`)
              : await fetch(`${srv.url}/predictions/churn`, {
                  method: "POST",
                  headers: {"content-type": "application/json"},
                  body: JSON.stringify({features: features[i % features.length]}),
                });
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  };
  const load = Promise.all(Array.from({length: 8}, (_, k) => worker(k)));

  await new Promise((r) => setTimeout(r, 500));
  // 1. a new build lands (atomic rename over the served file)
  const next = await makeBuild("build-2", "2030-01-01 00:00:00", flight);
  renameSync(next, live());
  await waitFor(async () => (await health()).data.built_at.startsWith("2030-01-01"));
  await new Promise((r) => setTimeout(r, 400));

  // 2. a broken file lands: refused, the previous build keeps serving
  writeFileSync(join(dir, "data", ".broken.tmp"), "this is not a duckdb file");
  renameSync(join(dir, "data", ".broken.tmp"), live());
  await waitFor(async () => srv.metrics.reloads.get({kind: "warehouse", outcome: "error"}) >= 1);
  expect((await health()).data.built_at.startsWith("2030-01-01")).toBe(true);

  // 3. another good build replaces it
  const third = await makeBuild("build-3", "2031-01-01 00:00:00", flight);
  renameSync(third, live());
  await waitFor(async () => (await health()).data.built_at.startsWith("2031-01-01"));

  // 4. a new model is promoted (card written last, by rename)
  const cardPath = join(dir, "models", "churn_model.card.json");
  const card = JSON.parse(readFileSync(cardPath, "utf8")) as {version: string};
  card.version = "20310101T000000Z";
  writeFileSync(`${cardPath}.tmp`, JSON.stringify(card, null, 2));
  renameSync(`${cardPath}.tmp`, cardPath);
  await waitFor(async () => (await health()).model.version === "20310101T000000Z");
  await new Promise((r) => setTimeout(r, 400));
  stop = true;
  await load;

  expect(errors).toEqual([]);
  expect([...statuses.keys()]).toEqual([200]);
  expect(statuses.get(200)!).toBeGreaterThan(100);
  expect(before.data.built_at).not.toBe((await health()).data.built_at);
  const after = (await (await fetch(`${srv.url}/predictions/customers/${flight}/360`)).json()) as {
    is_flight_risk: boolean;
    quadrant: {model_quadrant: string};
    scores: {churn_probability: number};
  };
  expect(after.scores.churn_probability).toBe(0.7);
  expect(after.is_flight_risk).toBe(true);
  expect(after.quadrant.model_quadrant).toBe("Flight Risk");
  const pred = (await (
    await fetch(`${srv.url}/predictions/churn`, {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({features: features[0]}),
    })
  ).json()) as {model_version: string};
  expect(pred.model_version).toBe("20310101T000000Z");
  expect(srv.metrics.reloads.get({kind: "warehouse", outcome: "ok"})).toBe(2);
  expect(srv.metrics.reloads.get({kind: "model", outcome: "ok"})).toBe(1);
}, 120_000);
