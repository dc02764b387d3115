/**
 * Payment and compliance signals end to end: the optional raw tables through the contract
 * (bad cells named, unknown payment words reported), the features they feed at a cutoff, the
 * health components and flags, the model's features, over-deployment — and the synthetic
 * portfolio's known effect (truth.signal_effects), which the data must show.
 */
import {cpSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {IngestError, ingestFiles} from "../loaders/ingest.ts";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {loadModel} from "../loaders/model/registry.ts";
import {config} from "../src/rules/config.ts";
import {makeRawCsvDir, setCell, TEST_AS_OF} from "./helpers/raw-files.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

type Row = Record<string, unknown>;
let clean: string;
const work: string[] = [];

beforeAll(async () => {
  clean = await makeRawCsvDir(150, 11);
  work.push(clean);
});
afterAll(() => {
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

describe("payment and compliance signals", () => {
  it("ingest names a bad compliance score and a bad vendor-risk count, and reports an unknown payment status", async () => {
    const dir = mkdtempSync(join(tmpdir(), "saasguard-signals-"));
    work.push(dir);
    cpSync(clean, dir, {recursive: true});
    setCell(join(dir, "account_risk_signals.csv"), 2, "compliance_gap_score", "1.5");
    setCell(join(dir, "account_risk_signals.csv"), 3, "vendor_risk_flags", "-2");
    setCell(join(dir, "payment_attempts.csv"), 2, "status", "chargeback_pending");
    const w = await openWarehouse(":memory:");
    try {
      const e = await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF}).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(IngestError);
      const text = (e as IngestError).message;
      expect(text).toMatch(/account_risk_signals\.csv:2 column "compliance_gap_score" value "1\.5": must be ≤ 1/);
      expect(text).toMatch(/account_risk_signals\.csv:3 column "vendor_risk_flags" value "-2": must be ≥ 0/);
      // an unknown word is kept and reported, never a rejected row
      expect(text).not.toMatch(/payment_attempts\.csv:2/);
    } finally {
      w.close();
    }
    // lenient: the two bad rows are quarantined, the unknown status is counted and reads as 'other'
    const w2 = await openWarehouse(":memory:");
    try {
      const report = await ingestFiles(w2.conn, dir, {asOf: TEST_AS_OF, lenient: true});
      expect(report.tables.account_risk_signals!.rejected).toBe(2);
      const unknown = await all<Row>(
        w2.conn,
        "SELECT value, n::INTEGER AS n FROM ingest.unknown_values WHERE kind = 'paymentOutcomes'",
      );
      expect(unknown).toEqual([{value: "chargeback_pending", n: 1}]);
    } finally {
      w2.close();
    }
  }, 120_000);

  it("feed the features at a cutoff, the health components, the flags and the model", async () => {
    const file = await ensureTestWarehouse();
    const w = await openWarehouse(file, {readOnly: true});
    try {
      // the features, recomputed from the raw rows by hand
      const [check] = await all<Row>(
        w.conn,
        `WITH f AS (SELECT * FROM marts.mart_customer_churn_features),
         by_hand AS (
           SELECT c.customer_id,
             (SELECT count(*) FROM raw.payment_attempts p WHERE p.customer_id = c.customer_id AND p.status = 'failed'
                AND p.attempted_at <= f.as_of_date AND p.attempted_at > f.as_of_date - 90) AS failed,
             (SELECT arg_max(compliance_gap_score, assessed_date) FROM raw.account_risk_signals r WHERE r.customer_id = c.customer_id
                AND r.assessed_date <= f.as_of_date AND r.assessed_date > f.as_of_date - 365) AS gap
           FROM f JOIN raw.customers c USING (customer_id))
         SELECT count(*) FILTER (WHERE f.failed_payments_90d <> h.failed)::INTEGER AS failed_off,
                count(*) FILTER (WHERE f.compliance_gap_score IS DISTINCT FROM h.gap)::INTEGER AS gap_off,
                count(*) FILTER (WHERE h.failed > 0)::INTEGER AS with_failures,
                count(h.gap)::INTEGER AS reviewed
         FROM marts.mart_customer_churn_features f JOIN by_hand h USING (customer_id)`,
      );
      expect(check).toMatchObject({failed_off: 0, gap_off: 0});
      expect(check!.with_failures as number).toBeGreaterThan(0);
      expect(check!.reviewed as number).toBeGreaterThan(0);
      // health components that read them, measured in the demo
      const comps = await all<Row>(
        w.conn,
        "SELECT input, measured FROM marts.int_score_weights WHERE score = 'health' AND segment IS NULL AND input IN ('failed_payments', 'compliance_gap', 'vendor_risk') ORDER BY input",
      );
      expect(comps).toEqual([
        {input: "compliance_gap", measured: true},
        {input: "failed_payments", measured: true},
        {input: "vendor_risk", measured: true},
      ]);
      // the flags follow their thresholds in config.flags
      const [flags] = await all<Row>(
        w.conn,
        `SELECT count(*) FILTER (WHERE r.payment_failing <> (f.failed_payments_90d >= ${config.flags.failedPayments90d}))::INTEGER AS pay_off,
                count(*) FILTER (WHERE r.compliance_risk <> coalesce(f.compliance_gap_score >= ${config.flags.complianceGapScore} OR f.vendor_risk_flags >= ${config.flags.vendorRiskFlags}, false))::INTEGER AS comp_off,
                count(*) FILTER (WHERE r.over_deployed <> (f.over_deployed_users > 0))::INTEGER AS over_off,
                count(*) FILTER (WHERE r.compliance_risk)::INTEGER AS compliance_risk,
                count(*) FILTER (WHERE r.over_deployed)::INTEGER AS over_deployed
         FROM marts.mart_customer_risk_scores r JOIN marts.mart_customer_churn_features f USING (customer_id)`,
      );
      expect(flags).toMatchObject({pay_off: 0, comp_off: 0, over_off: 0});
      expect(flags!.compliance_risk as number).toBeGreaterThan(0);
      expect(flags!.over_deployed as number).toBeGreaterThan(0);
      // over-deployment happens where the generator let more people in than licensed, and only there
      const [over] = await all<Row>(
        w.conn,
        `SELECT count(*) FILTER (WHERE t.over_deploy_factor = 1)::INTEGER AS wrongly
         FROM marts.mart_customer_risk_scores r JOIN truth.account_signals t USING (customer_id) WHERE r.over_deployed`,
      );
      expect(over!.wrongly).toBe(0);
    } finally {
      w.close();
    }
    // the shipped model reads them
    const model = await loadModel("models");
    const names = model.features.map((f) => f.name);
    for (const f of ["failed_payments_90d", "compliance_gap_score", "vendor_risk_flags", "over_deployed_users"])
      expect(names).toContain(f);
  }, 300_000);

  it("the synthetic portfolio's known effect shows in its data: a larger compliance gap churns more", async () => {
    const file = await ensureTestWarehouse();
    const w = await openWarehouse(file, {readOnly: true});
    try {
      const effects = await all<Row>(w.conn, "SELECT signal, churn_logit FROM truth.signal_effects ORDER BY signal");
      expect(effects.map((e) => e.signal)).toEqual(["compliance_gap", "fragile_payer", "over_deployment"]);
      expect(effects[0]!.churn_logit as number).toBeGreaterThan(0);
      // the reviews read the latent gap (noisily), failed payments the fragile payers
      const [r] = await all<Row>(
        w.conn,
        `SELECT corr(s.compliance_gap_score, t.compliance_gap) AS gap_corr,
                avg(f.failed) FILTER (WHERE t.fragile_payer) AS fragile_failures,
                avg(f.failed) FILTER (WHERE NOT t.fragile_payer) AS other_failures
         FROM truth.account_signals t
         LEFT JOIN raw.account_risk_signals s USING (customer_id)
         LEFT JOIN (SELECT customer_id, count(*) FILTER (WHERE status = 'failed') / count(*) AS failed FROM raw.payment_attempts GROUP BY ALL) f USING (customer_id)`,
      );
      expect(r!.gap_corr as number).toBeGreaterThan(0.9);
      expect(r!.fragile_failures as number).toBeGreaterThan(3 * (r!.other_failures as number));
      // the true 90-day churn probability rises with the gap, other things varying
      const [p] = await all<Row>(
        w.conn,
        `SELECT avg(p.p_churn_90d) FILTER (WHERE t.compliance_gap >= 0.5) AS high_gap,
                avg(p.p_churn_90d) FILTER (WHERE t.compliance_gap < 0.2) AS low_gap
         FROM truth.churn_probability p JOIN truth.account_signals t USING (customer_id)`,
      );
      expect(p!.high_gap as number).toBeGreaterThan(1.5 * (p!.low_gap as number));
    } finally {
      w.close();
    }
  }, 300_000);
});
