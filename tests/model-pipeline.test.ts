/**
 * The churn model wired to the warehouse: real DuckDB, real onnxruntime-web, the shipped model
 * and freshly trained ones. Covers scoring in the build, ONNX ↔ TypeScript parity, SHAP
 * additivity, the promotion gate, bring-your-own tables and models, and bad inputs.
 */
import {execFile} from "node:child_process";
import {cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {promisify} from "node:util";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config, tierOfProbability} from "../src/rules/config.ts";
import {build} from "../loaders/build.ts";
import {toRowMajor} from "../loaders/model/dataset.ts";
import {predictRaw} from "../loaders/model/gbt.ts";
import {calibrate} from "../loaders/model/calibration.ts";
import {loadModel, promotionGate, type LoadedModel} from "../loaders/model/registry.ts";
import {detectFeatures, openTableFile, readDataset} from "../loaders/model/table.ts";
import {scoreInBatches, scoreRelation} from "../loaders/score.ts";
import {all, lit, one, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {ensureTestWarehouse, TEST_WAREHOUSE_AS_OF} from "./helpers/test-warehouse.ts";

const run = promisify(execFile);
const tsx = (args: string[]) =>
  run("npx", ["tsx", ...args], {maxBuffer: 1 << 24}).then(
    (r) => ({code: 0, out: r.stdout + r.stderr}),
    (e: {code: number; stdout: string; stderr: string}) => ({code: e.code, out: e.stdout + e.stderr}),
  );

let w: Warehouse;
let model: LoadedModel;
const work: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  work.push(d);
  return d;
};

beforeAll(async () => {
  w = await openWarehouse(await ensureTestWarehouse(), {readOnly: true});
  model = await loadModel("models");
});
afterAll(async () => {
  w?.close();
  await model?.scorer.release();
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

/** A hand-made customer table: numeric, boolean and text columns and a learnable label. */
function handMadeCsv(path: string, opts: {rows?: number; shuffleLabels?: boolean; extra?: string} = {}): void {
  const n = opts.rows ?? 2000;
  let s = 12345;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines = [`account,logins,tickets,plan,annual,churned${opts.extra ? "," + opts.extra.split("=")[0] : ""}`];
  for (let i = 0; i < n; i++) {
    const logins = Math.floor(rnd() * 60);
    const tickets = Math.floor(rnd() * 6);
    const plan = ["basic", "pro", "max"][Math.floor(rnd() * 3)];
    const annual = rnd() < 0.5;
    const p = 1 / (1 + Math.exp(-(-1 - logins / 12 + tickets * 0.6 + (plan === "basic" ? 1 : 0))));
    const label = opts.shuffleLabels ? rnd() < 0.3 : rnd() < p;
    lines.push(
      `A${i},${logins},${tickets},${plan},${annual},${label ? 1 : 0}${opts.extra ? "," + opts.extra.split("=")[1] : ""}`,
    );
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

describe("scoring in the build", () => {
  it("gives every active account a calibrated probability, a model tier and drivers", async () => {
    const r = await one<{n: number; p: number; tiers: number; drivers: number}>(
      w.conn,
      `SELECT count(*) AS n, count(churn_probability) AS p, count(DISTINCT model_tier) AS tiers,
              (SELECT count(DISTINCT customer_id) FROM marts.mart_customer_drivers) AS drivers
       FROM marts.mart_customer_risk_scores`,
    );
    expect(r.n).toBeGreaterThan(300);
    expect(r.p).toBe(r.n);
    expect(r.drivers).toBe(r.n);
    expect(r.tiers).toBeGreaterThanOrEqual(3);
    const rows = await all<{churn_probability: number; model_tier: string}>(
      w.conn,
      "SELECT churn_probability, model_tier FROM marts.mart_customer_risk_scores",
    );
    for (const row of rows) expect(row.model_tier).toBe(tierOfProbability(row.churn_probability));
    // the calibrated mean is close to the observed 90-day churn rate of the back-test
    const bt = await one<{pred: number; obs: number}>(
      w.conn,
      "SELECT avg(probability) AS pred, avg(label::INT) AS obs FROM marts.model_backtest_predictions",
    );
    expect(Math.abs(bt.pred - bt.obs)).toBeLessThan(0.03);
    const drift = await all<{n: number}>(w.conn, "SELECT * FROM marts.model_drift");
    expect(drift.length).toBeGreaterThanOrEqual(2);
    expect(drift.reduce((s, d) => s + d.n, 0)).toBeGreaterThan(300);
  });

  it("scoring in batches gives every account, once, what scoring all at once gives", async () => {
    const whole = await scoreRelation(w.conn, model, "marts.mart_customer_churn_features");
    const ids: string[] = [];
    const p: number[] = [];
    const shap: number[] = [];
    const sizes: number[] = [];
    await scoreInBatches(w.conn, model, "marts.mart_customer_churn_features", {batchRows: 997}, async (s) => {
      sizes.push(s.ids.length);
      ids.push(...s.ids);
      p.push(...s.probability);
      shap.push(...s.shap!);
    });
    expect(sizes.length).toBe(Math.ceil(whole.ids.length / 997));
    expect(sizes.slice(0, -1).every((n) => n === 997)).toBe(true);
    expect(ids).toEqual(whole.ids);
    expect(p).toEqual([...whole.probability]);
    expect(shap).toEqual([...whole.shap!]);
  });

  it("TypeScript trees and onnxruntime-web agree to 1e-5 on thousands of real rows", async () => {
    const rel = `(SELECT * FROM marts.int_customer_features_as_of(DATE '2026-03-01') UNION ALL SELECT * FROM marts.int_customer_features_as_of(DATE '2026-06-30') UNION ALL SELECT * FROM marts.int_customer_features_as_of(DATE '2025-12-01') UNION ALL SELECT * FROM marts.int_customer_features_as_of(DATE '2025-09-01') UNION ALL SELECT * FROM marts.int_customer_features_as_of(DATE '2025-06-01') ORDER BY as_of_date, customer_id)`;
    await w.conn.run(`SET VARIABLE as_of = DATE ${lit(TEST_WAREHOUSE_AS_OF)}`);
    const {data} = await readDataset(w.conn, rel, model.features);
    expect(data.nRows).toBeGreaterThan(2000);
    const onnx = await model.scorer.score(toRowMajor(data), data.nRows);
    const raw = predictRaw(model.gbt!, data);
    let maxRaw = 0;
    for (let i = 0; i < data.nRows; i++)
      maxRaw = Math.max(maxRaw, Math.abs(raw[i]! - onnx.raw[i]!) / Math.max(1, Math.abs(raw[i]!)));
    expect(maxRaw).toBeLessThan(1e-5);
    const {a, b} = model.card.calibration.params as {a: number; b: number};
    const tsProb = calibrate({method: "platt", a, b}, raw);
    let maxP = 0;
    for (let i = 0; i < data.nRows; i++) maxP = Math.max(maxP, Math.abs(tsProb[i]! - onnx.probability[i]!));
    expect(maxP).toBeLessThan(1e-5);
  });

  it("drivers are exact TreeSHAP: values plus the base value equal the model's raw score", async () => {
    const {data} = await readDataset(
      w.conn,
      "(SELECT * FROM marts.mart_customer_churn_features ORDER BY customer_id)",
      model.features,
    );
    const {shap, raw} = model.explainer!.explainBatch(data);
    const onnx = await model.scorer.score(toRowMajor(data), data.nRows);
    const F = data.features.length;
    for (let i = 0; i < data.nRows; i++) {
      let s = model.explainer!.expectedValue;
      for (let j = 0; j < F; j++) s += shap[i * F + j]!;
      expect(Math.abs(s - raw[i]!)).toBeLessThan(1e-9);
      expect(Math.abs(s - onnx.raw[i]!)).toBeLessThan(1e-4);
    }
    expect(model.card.explainer!.expected_value).toBeCloseTo(model.explainer!.expectedValue, 9);
    // the stored top drivers are the largest |SHAP| values of each account
    const stored = await all<{customer_id: string; feature: string; contribution: number}>(
      w.conn,
      "SELECT customer_id, feature, contribution FROM marts.mart_customer_drivers WHERE rank = 1 ORDER BY customer_id LIMIT 50",
    );
    const ids = (
      await all<{customer_id: string}>(
        w.conn,
        "SELECT customer_id FROM marts.mart_customer_churn_features ORDER BY customer_id",
      )
    ).map((r) => r.customer_id);
    for (const d of stored) {
      const i = ids.indexOf(d.customer_id);
      const row = Array.from(shap.subarray(i * F, (i + 1) * F));
      const j = row.reduce((best, v, k) => (Math.abs(v) > Math.abs(row[best]!) ? k : best), 0);
      expect(d.feature).toBe(model.features[j]!.name);
      expect(d.contribution).toBeCloseTo(row[j]!, 9);
    }
  });

  it("the shipped model card holds the metrics, baseline, truth AUC and calibration curve", () => {
    const c = model.card;
    expect(c.metrics.roc_auc).toBeGreaterThan(c.baseline.metrics.roc_auc);
    expect(c.truth_auc).not.toBeNull();
    expect(c.metrics.roc_auc).toBeGreaterThanOrEqual(0.97 * c.truth_auc!);
    expect(c.metrics.ece).toBeLessThanOrEqual(0.02);
    expect(c.calibration.curve.length).toBeGreaterThan(3);
    expect(
      c.training!.cutoffs!.train.length + c.training!.cutoffs!.valid.length + c.training!.cutoffs!.test.length,
    ).toBeGreaterThanOrEqual(6);
    // time-ordered: train < validation < test, with the label horizon between validation and test
    const last = (xs: string[]) => xs.at(-1)!;
    expect(last(c.training!.cutoffs!.train) < c.training!.cutoffs!.valid[0]!).toBe(true);
    const gapDays =
      (Date.parse(c.training!.cutoffs!.test[0]!) - Date.parse(last(c.training!.cutoffs!.valid))) / 86_400_000;
    expect(gapDays).toBeGreaterThanOrEqual(config.dataQuality.churnHorizonDays);
  });
});

describe("reading a model's rows", () => {
  it("every chunk's features and extra columns, as DuckDB's values; a type it cannot give is an error naming the column", async () => {
    const w = await openWarehouse(":memory:");
    try {
      // 5,000 rows: three chunks of DuckDB's 2,048
      await w.conn.run(
        `CREATE TABLE t AS SELECT i::INTEGER AS n, CASE WHEN i % 3 = 0 THEN NULL ELSE ['a', 'b'][i % 2 + 1] END AS kind,
                i::BIGINT AS big, (i / 4)::DECIMAL(10, 2) AS price, DATE '2026-01-01' + i::INTEGER AS day, i % 2 = 0 AS even,
                TIMESTAMP '2026-01-01 00:00:00' AS at
         FROM range(5000) r(i)`,
      );
      const features = [
        {name: "n", kind: "numeric" as const},
        {name: "kind", kind: "categorical" as const, categories: ["a", "b"]},
      ];
      const {data, extra} = await readDataset(w.conn, "(SELECT * FROM t ORDER BY n)", features, [
        "big",
        "price",
        "day",
        "even",
      ]);
      expect(data.nRows).toBe(5000);
      expect([...data.columns[0]!.slice(4095, 4098)]).toEqual([4095, 4096, 4097]);
      expect([...data.columns[1]!.slice(0, 4)]).toEqual([NaN, 1, 0, NaN]);
      expect(extra.big![4999]).toBe(4999);
      expect(extra.price![4999]).toBe(1249.75);
      expect((extra.day![31] as Date).toISOString()).toBe("2026-02-01T00:00:00.000Z");
      expect(extra.even!.slice(0, 2)).toEqual([true, false]);
      await expect(readDataset(w.conn, "t", features, ["at"])).rejects.toThrow(/column at .*cast it in the query/);
      const none = await readDataset(w.conn, "(SELECT * FROM t WHERE false)", features, ["big"]);
      expect(none.data.nRows).toBe(0);
      expect(none.extra.big).toEqual([]);
    } finally {
      w.close();
    }
  });
});

describe("promotion gate", () => {
  it("passes a candidate within 0.03 AUC and calibrated, fails a worse or drifting one", () => {
    const card = structuredClone(model.card);
    expect(promotionGate(card, null).passed).toBe(true);
    expect(promotionGate(card, {auc: card.metrics.roc_auc + 0.02}).passed).toBe(true);
    const worse = promotionGate(card, {auc: card.metrics.roc_auc + 0.031});
    expect(worse.passed).toBe(false);
    expect(worse.rows[0]!.ok).toBe(false);
    card.calibration.decile_drift = config.governance.maxCalibrationDrift + 0.001;
    expect(promotionGate(card, null).rows[1]!.ok).toBe(false);
  });

  it("npm run train on your own table promotes a good model, refuses a worse one, and --force overrides", async () => {
    const dir = tmp("saasguard-byo-");
    const good = join(dir, "good.csv");
    const noise = join(dir, "noise.csv");
    handMadeCsv(good);
    handMadeCsv(noise, {shuffleLabels: true});
    const out = join(dir, "models");
    const first = await tsx([
      "loaders/cli/train.ts",
      "--table",
      good,
      "--id",
      "account",
      "--label",
      "churned",
      "--out",
      out,
    ]);
    expect(first.out).toMatch(/promoted to/);
    expect(first.code).toBe(0);
    const before = readFileSync(join(out, "churn_model.onnx"));
    const second = await tsx([
      "loaders/cli/train.ts",
      "--table",
      noise,
      "--id",
      "account",
      "--label",
      "churned",
      "--out",
      out,
    ]);
    expect(second.code).toBe(3);
    expect(second.out).toMatch(/\| ROC-AUC \(test cutoffs\) \| 0\.\d+ \| 0\.\d+ \| ≥ 0\.\d+ \| FAIL \|/);
    expect(second.out).toMatch(/NOT promoted/);
    expect(readFileSync(join(out, "churn_model.onnx")).equals(before)).toBe(true);
    expect(existsSync(join(out, "candidate", "churn_model.onnx"))).toBe(true);
    const forced = await tsx([
      "loaders/cli/train.ts",
      "--table",
      noise,
      "--id",
      "account",
      "--label",
      "churned",
      "--out",
      out,
      "--force",
    ]);
    expect(forced.out).toMatch(/promoted to .*\(--force: the gates failed\)/);
    expect(readFileSync(join(out, "churn_model.onnx")).equals(before)).toBe(false);

    // and npm run score uses it on a table, writing probability, tier and drivers
    const scored = join(dir, "scored.csv");
    const s = await tsx([
      "loaders/cli/score-table.ts",
      "--table",
      good,
      "--id",
      "account",
      "--model",
      out,
      "--out",
      scored,
    ]);
    expect(s.code, s.out).toBe(0);
    const lines = readFileSync(scored, "utf8").trim().split("\n");
    expect(lines[0]).toBe("account,churn_probability,tier,drivers");
    expect(lines.length).toBe(2001);
    expect(lines[1]).toMatch(/^A\d+,0\.\d+,(Low|Medium|High|Critical),\w+ [+-]\d\.\d{3}/);
  }, 240_000);

  it("reads a table as a spreadsheet writes it: blank, N/A and $1,234.50 cells in number columns, TRUE/FALSE, semicolons", async () => {
    const dir = tmp("saasguard-sheet-table-");
    const file = join(dir, "sheet.csv");
    handMadeCsv(file, {rows: 300});
    const [header, ...rows] = readFileSync(file, "utf8").trimEnd().split("\n");
    const sheet = rows.map((r, i) => {
      const c = r.split(",");
      if (i % 27 === 0) c[1] = i % 2 ? "" : "N/A"; // logins: 12 missing cells
      c[4] = c[4]!.toUpperCase(); // annual: TRUE / FALSE
      return [...c, `"$${(1000 + i * 13.5).toLocaleString("en-US", {minimumFractionDigits: 2})}"`].join(";");
    });
    writeFileSync(file, "\ufeff" + [header!.replaceAll(",", ";") + ";mrr", ...sheet].join("\r\n"));
    const t = await openWarehouse(":memory:");
    try {
      const rel = await openTableFile(t, file);
      const features = await detectFeatures(t.conn, rel, ["account", "churned"], file);
      expect(Object.fromEntries(features.map((f) => [f.name, f.kind]))).toEqual({
        logins: "numeric",
        tickets: "numeric",
        plan: "categorical",
        annual: "numeric",
        mrr: "numeric",
      });
      const [r] = await all<{missing: number; mrr: number; annual: string}>(
        t.conn,
        `SELECT count(*) FILTER (WHERE logins IS NULL) AS missing, max(mrr) AS mrr, typeof(any_value(annual)) AS annual FROM ${rel}`,
      );
      expect(r).toEqual({missing: 12, mrr: 1000 + 299 * 13.5, annual: "BOOLEAN"});
    } finally {
      t.close();
    }
  });

  it("rejects unusable tables with a message naming the column, and leaves the model alone", async () => {
    const dir = tmp("saasguard-bad-table-");
    const out = join(dir, "models");
    const dates = join(dir, "dates.csv");
    handMadeCsv(dates, {extra: "signed_up=2024-01-01"});
    let r = await tsx([
      "loaders/cli/train.ts",
      "--table",
      dates,
      "--id",
      "account",
      "--label",
      "churned",
      "--out",
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/"signed_up" is a DATE: convert it to a number/);
    const badLabel = join(dir, "label.csv");
    handMadeCsv(badLabel);
    writeFileSync(badLabel, readFileSync(badLabel, "utf8").replace(/,1\n/, ",maybe\n"));
    r = await tsx(["loaders/cli/train.ts", "--table", badLabel, "--id", "account", "--label", "churned", "--out", out]);
    expect(r.out).toMatch(/label column "churned" row \d+ is "maybe"; labels must be 0\/1 or true\/false/);
    r = await tsx(["loaders/cli/train.ts", "--table", badLabel, "--id", "acct", "--label", "churned", "--out", out]);
    expect(r.out).toMatch(/no column "acct" \(columns: account, logins/);
    r = await tsx([
      "loaders/cli/train.ts",
      "--table",
      join(dir, "missing.csv"),
      "--id",
      "a",
      "--label",
      "b",
      "--out",
      out,
    ]);
    expect(r.out).toMatch(/missing\.csv does not exist/);
    expect(existsSync(join(out, "churn_model.onnx"))).toBe(false);
  }, 120_000);

  it("a broken model in models/ fails the build with a clear message; warehouse and model stay as they were", async () => {
    const dir = tmp("saasguard-bad-model-");
    const models = join(dir, "models");
    cpSync("models", models, {recursive: true});
    const warehousePath = join(dir, "w.duckdb");
    await build({
      asOf: TEST_WAREHOUSE_AS_OF,
      customers: 200,
      seed: 3,
      source: "synthetic",
      warehousePath,
      modelsDir: models,
      site: false,
      log: () => {},
    });
    const before = readFileSync(warehousePath);
    const go = () =>
      build({
        asOf: TEST_WAREHOUSE_AS_OF,
        customers: 200,
        seed: 3,
        source: "synthetic",
        warehousePath,
        modelsDir: models,
        site: false,
        log: () => {},
      });

    writeFileSync(join(models, "churn_model.onnx"), "this is not a model");
    await expect(go()).rejects.toThrow(/churn_model\.onnx: not an ONNX file/);
    cpSync("models/churn_model.onnx", join(models, "churn_model.onnx"));

    const card = JSON.parse(readFileSync("models/churn_model.card.json", "utf8"));
    card.features[0].name = "renamed";
    writeFileSync(join(models, "churn_model.card.json"), JSON.stringify(card));
    await expect(go()).rejects.toThrow(/feature_names|features differ|renamed/);

    card.features = card.features.slice(1);
    writeFileSync(join(models, "churn_model.card.json"), JSON.stringify(card));
    await expect(go()).rejects.toThrow(/onnx\.input\.shape\.1: input width \d+ does not match the \d+ features listed/);

    writeFileSync(join(models, "churn_model.card.json"), "{not json");
    await expect(go()).rejects.toThrow(/churn_model\.card\.json: not valid JSON/);
    expect(readFileSync(warehousePath).equals(before)).toBe(true);
  }, 240_000);
});
