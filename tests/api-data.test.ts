/**
 * The API's warehouse layer: the in-memory read model of a snapshot holds exactly what the marts
 * say (checked against a plain SELECT * of every account), `scan` reads what `query` reads, and
 * the per-snapshot memo shares concurrent loads, forgets failures and stays bounded.
 */
import {afterAll, beforeAll, expect, it} from "vitest";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {openSnapshot, type WarehouseSnapshot} from "../server/api/data.ts";
import {loadCustomer, loadReadModel, warehouseModelVersion} from "../server/api/queries.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let path = "";
let snap: WarehouseSnapshot;

beforeAll(async () => {
  path = await ensureTestWarehouse();
  snap = await openSnapshot(path);
});

afterAll(() => snap?.close());

const list = (s: unknown) =>
  typeof s === "string" && s.trim()
    ? s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)
    : [];

it("the read model holds every account exactly as the marts have it", async () => {
  const w = await openWarehouse(path, {readOnly: true});
  let rows: Record<string, unknown>[];
  let version: string | undefined;
  try {
    rows = await all(w.conn, "SELECT * FROM marts.mart_customer_risk_scores");
    version = (await all<{version: string}>(w.conn, "SELECT version FROM marts.model_card"))[0]?.version;
  } finally {
    w.close();
  }
  expect(rows.length).toBeGreaterThan(100);
  expect((await loadReadModel(snap)).customers.size).toBe(rows.length);
  for (const r of rows) {
    const c = (await loadCustomer(snap, String(r.customer_id)))!;
    expect(c.profile).toEqual({
      customer_id: r.customer_id,
      company_name: r.company_name,
      industry: r.industry,
      company_size: r.company_size,
      plan_tier: r.plan_tier,
      csm_owner: r.csm_owner ?? null,
      arr: r.arr,
      seats_purchased: r.seats_purchased,
      renewal_date: r.renewal_date ?? null,
      days_to_renewal: r.days_to_renewal,
      lifecycle_stage: r.lifecycle_stage,
      tenure_days: r.tenure_days,
    });
    expect(c.scores).toEqual({
      churn_probability: r.churn_probability,
      model_tier: r.model_tier,
      expected_arr_loss_90d: r.expected_arr_loss_90d,
      model_top_drivers: list(r.model_top_drivers),
      health_score: r.health_score,
      risk_score: r.risk_score,
      risk_tier: r.risk_tier,
      health_colour: r.health_colour,
      arr_at_risk: r.arr_at_risk,
      top_risk_drivers: list(r.top_risk_drivers),
      rule_recommended_action: r.recommended_action,
    });
    expect(c.risk_flags).toEqual({
      low_events: r.low_events,
      support_overload: r.support_overload,
      onboarding_at_risk: r.onboarding_at_risk,
      payment_failing: r.payment_failing,
      compliance_risk: r.compliance_risk,
      over_deployed_users: Number(r.over_deployed_users),
    });
    expect(c.usage).toEqual({
      events_last_30d: r.events_last_30d,
      high_priority_tickets_30d: r.high_priority_tickets_30d,
      open_tickets: r.open_tickets,
    });
  }
  expect(await loadCustomer(snap, "no-such-id")).toBeNull();
  expect(await warehouseModelVersion(snap)).toBe(version ?? null);
  // one read model per snapshot, shared by every caller
  expect(loadReadModel(snap)).toBe(loadReadModel(snap));
});

it("scan reads what query reads, column by column", async () => {
  const sql =
    "SELECT customer_id, rank, feature, feature_value, contribution FROM marts.mart_customer_drivers ORDER BY customer_id, rank";
  const rows = await snap.query<Record<string, unknown>>(sql);
  const cols = await snap.scan(sql);
  expect(Object.keys(cols)).toEqual(["customer_id", "rank", "feature", "feature_value", "contribution"]);
  expect(cols.customer_id!.length).toBe(rows.length);
  expect(rows.length).toBeGreaterThan(2048); // more than one DuckDB chunk
  rows.forEach((r, i) => {
    for (const k of Object.keys(cols)) expect(cols[k]![i]).toEqual(r[k]);
  });
});

it("the memo shares concurrent loads and does not remember failures", async () => {
  let loads = 0;
  const load = async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 10));
    return loads;
  };
  const [a, b] = await Promise.all([snap.cached("t:shared", load), snap.cached("t:shared", load)]);
  expect([a, b, loads]).toEqual([1, 1, 1]);
  expect(await snap.cached("t:shared", load)).toBe(1);

  let fail = true;
  const flaky = async () => {
    if (fail) throw new Error("boom");
    return "ok";
  };
  await expect(snap.cached("t:flaky", flaky)).rejects.toThrow("boom");
  fail = false;
  expect(await snap.cached("t:flaky", flaky)).toBe("ok");
});
