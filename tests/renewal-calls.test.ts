/**
 * The CSMs' calls on renewals: the disagreement and checkpoint rules on their edges, recording a
 * call through the API (roles, a note without personal data, bad input), the live view, and the
 * nightly build carrying the store's calls into the forecast's tables.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config} from "../src/rules/config.ts";
import {build} from "../loaders/build.ts";
import {all, one, openWarehouse} from "../loaders/duckdb.ts";
import {callDisagreement, checkpointOf} from "../loaders/renewal-calls.ts";
import {openStore} from "../loaders/store/index.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {loadApiConfig} from "../server/api/settings.ts";
import {newApiKey} from "../server/api/security.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse, TEST_WAREHOUSE_AS_OF} from "./helpers/test-warehouse.ts";

const rc = config.renewalCalls;

describe("the rules", () => {
  it("a hopeful call on a renewal the model sees churning, a worried one on a safe renewal", () => {
    expect(callDisagreement("commit", rc.hopefulAbove)).toBe("hopeful");
    expect(callDisagreement("likely", rc.hopefulAbove - 1e-9)).toBe(null);
    expect(callDisagreement("at_risk", rc.hopefulAbove)).toBe(null);
    expect(callDisagreement("lost", rc.worriedBelow - 1e-9)).toBe("worried");
    expect(callDisagreement("lost", rc.worriedBelow)).toBe(null);
    expect(callDisagreement("commit", 0)).toBe(null);
  });

  it("a call is due once a renewal passes a checkpoint review without a call made since", () => {
    const [far, near] = rc.checkpointsDays as unknown as [number, number];
    // 2026-07-01 → renewals far+1, far, near+1 and near days ahead
    const ahead = (days: number) =>
      new Date(Date.parse("2026-07-01T00:00:00Z") + days * 86_400_000).toISOString().slice(0, 10);
    expect(checkpointOf(ahead(far + 1), "2026-07-01", null)).toEqual({checkpoint_days: null, call_due: false});
    expect(checkpointOf(ahead(far), "2026-07-01", null)).toEqual({checkpoint_days: far, call_due: true});
    // a call made on the day of the far checkpoint holds until the near one
    expect(checkpointOf(ahead(near + 1), "2026-07-01", `${ahead(near + 1 - far)}T10:00:00.000Z`)).toEqual({
      checkpoint_days: far,
      call_due: false,
    });
    expect(checkpointOf(ahead(near), "2026-07-01", `${ahead(near - far)}T10:00:00.000Z`)).toEqual({
      checkpoint_days: near,
      call_due: true,
    });
    expect(checkpointOf(ahead(near), "2026-07-01", "2026-07-01T08:00:00.000Z")).toEqual({
      checkpoint_days: near,
      call_due: false,
    });
  });
});

describe("through the API", () => {
  let srv: ApiServer;
  const csm = newApiKey("ana", "csm");
  const reader = newApiKey("crm", "read");
  let account: {customer_id: string; renewal_date: string; churn_before_renewal: number};

  beforeAll(async () => {
    const wh = await ensureTestWarehouse();
    srv = await startTestApi({
      warehousePath: wh,
      modelsDir: join(dirname(wh), "models"),
      apiKeys: loadApiConfig({API_KEYS: `${csm.entry},${reader.entry}`}).apiKeys,
    });
    const w = await openWarehouse(wh, {readOnly: true});
    try {
      // the upcoming renewal the model thinks likeliest to churn
      [account] = await all(
        w.conn,
        "SELECT customer_id, CAST(renewal_date AS VARCHAR) AS renewal_date, churn_before_renewal FROM marts.mart_renewal_calls ORDER BY churn_before_renewal DESC, customer_id LIMIT 1",
      );
    } finally {
      w.close();
    }
    expect(account.churn_before_renewal).toBeGreaterThanOrEqual(rc.hopefulAbove);
  });
  afterAll(async () => {
    await srv?.close();
  });

  const post = (id: string, body: unknown, key = csm.key) =>
    fetch(`${srv.url}/renewals/${id}/call`, {
      method: "POST",
      headers: {"content-type": "application/json", authorization: `Bearer ${key}`},
      body: JSON.stringify(body),
    });
  const get = (path: string) => fetch(`${srv.url}${path}`, {headers: {authorization: `Bearer ${csm.key}`}});

  it("records a CSM's call on the account's next renewal, its note without personal data", async () => {
    const r = await post(account.customer_id, {
      call: "commit",
      note: "Sponsor confirmed on a call, reach me at jo@acme.example",
    });
    expect(r.status).toBe(201);
    const stored = (await r.json()) as Record<string, unknown>;
    expect(stored).toMatchObject({
      customer_id: account.customer_id,
      renewal_date: account.renewal_date,
      call: "commit",
      actor: "ana",
      role: "csm",
    });
    expect(stored.note).toBe("Sponsor confirmed on a call, reach me at [email]");
  });

  it("shows it at once in the live view, as a hopeful call, and keeps every call on record", async () => {
    const view = (await (await get("/renewals/calls?only=disagreements")).json()) as {
      renewals: {customer_id: string; call: string; disagreement: string; call_due: boolean}[];
    };
    expect(view.renewals.find((v) => v.customer_id === account.customer_id)).toMatchObject({
      call: "commit",
      disagreement: "hopeful",
      call_due: false,
    });
    expect((await post(account.customer_id, {call: "at_risk"})).status).toBe(201);
    const after = (await (await get("/renewals/calls?only=disagreements")).json()) as {
      renewals: {customer_id: string}[];
    };
    expect(after.renewals.some((v) => v.customer_id === account.customer_id)).toBe(false);
    const history = (await (await get(`/renewals/${account.customer_id}/calls`)).json()) as {calls: {call: string}[]};
    expect(history.calls.map((c) => c.call)).toEqual(["commit", "at_risk"]);
  });

  it("refuses a read-only key, an unknown account and bad input, naming each field", async () => {
    expect((await post(account.customer_id, {call: "lost"}, reader.key)).status).toBe(403);
    expect((await post("C999999", {call: "lost"})).status).toBe(404);
    const bad = await post(account.customer_id, {call: "maybe", note: "x".repeat(1001), extra: 1});
    expect(bad.status).toBe(422);
    const fields = ((await bad.json()) as {errors: {field: string}[]}).errors.map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(["body.call", "body.note"]));
    const q = await get("/renewals/calls?quarter=5&only=everything");
    expect(q.status).toBe(422);
    expect(((await q.json()) as {errors: {field: string}[]}).errors.map((e) => e.field).sort()).toEqual([
      "query.only",
      "query.quarter",
    ]);
  });
});

describe("in the nightly build", () => {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-calls-"));
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  it("the demo's and the store's latest call on each upcoming renewal reach the forecast's tables (the newer wins), with the disagreement", async () => {
    const warehousePath = join(dir, "warehouse.duckdb");
    const store = `sqlite:${join(dir, "ops.sqlite")}`;
    const opts = {
      asOf: TEST_WAREHOUSE_AS_OF,
      customers: 300,
      seed: 8,
      source: "synthetic" as const,
      site: false,
      warehousePath,
      store,
      log: () => {},
    };
    await build(opts);
    let w = await openWarehouse(warehousePath, {readOnly: true});
    // the demo's CS team called some renewals before the store existed: each reaches the mart
    const demo = await one<{calls: number; reached: number; wrong: number}>(
      w.conn,
      `SELECT count(*)::INTEGER AS calls, count(m.call)::INTEGER AS reached, count(*) FILTER (WHERE m.call <> d.call OR m.called_by <> d.actor)::INTEGER AS wrong
       FROM demo.renewal_calls d JOIN marts.mart_renewal_calls m ON m.customer_id = d.customer_id AND m.renewal_date = d.renewal_date`,
    );
    expect(demo.calls).toBeGreaterThan(10);
    expect(demo.reached).toBe(demo.calls);
    expect(demo.wrong).toBe(0);
    const [target] = await all<{customer_id: string; renewal_date: string}>(
      w.conn,
      "SELECT customer_id, CAST(renewal_date AS VARCHAR) AS renewal_date FROM marts.mart_renewal_calls WHERE churn_before_renewal < 0.05 ORDER BY call IS NULL, arr DESC LIMIT 1",
    );
    w.close();
    const s = await openStore(store);
    try {
      await s.recordRenewalCall({...target!, call: "likely"}, {name: "ana", role: "csm", via: "api_key"});
      await s.recordRenewalCall(
        {...target!, call: "lost", note: "moving to a competitor"},
        {name: "lee", role: "lead", via: "proxy"},
      );
    } finally {
      await s.close();
    }
    await build(opts);
    w = await openWarehouse(warehousePath, {readOnly: true});
    try {
      const rows = await all(
        w.conn,
        `SELECT call, called_by, disagreement, call_due FROM marts.mart_renewal_calls WHERE customer_id = '${target!.customer_id}'`,
      );
      expect(rows).toEqual([{call: "lost", called_by: "lee", disagreement: "worried", call_due: false}]);
      // notes stay in the store: no column of the warehouse holds one
      const cols = await all<{c: string}>(w.conn, "SELECT column_name AS c FROM (DESCRIBE marts.mart_renewal_calls)");
      expect(cols.map((c) => c.c)).not.toContain("note");
    } finally {
      w.close();
    }
  });
});
