/**
 * The health score's numbers and their tuner: the constrained fit (weights inside their bounds,
 * summing to 1; anchors monotone in the component's direction), the data file's validation (a
 * broken hand edit fails with every problem at its place), the segment fallback, and
 * `npm run health:tune` end to end on a real warehouse — proposing without changing anything,
 * adopting only with --apply.
 */
import {execFileSync, spawnSync} from "node:child_process";
import {copyFileSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {attachWarehouse} from "../loaders/cli/train.ts";
import {all} from "../loaders/duckdb.ts";
import {
  anchorCandidates,
  componentScores,
  fitHealthScore,
  fitWeights,
  projectToBoxedSimplex,
  riskScores,
  type FitComponent,
} from "../loaders/health/fit.ts";
import {tuneHealthScore} from "../loaders/health/tune.ts";
import {Rng} from "../loaders/synthetic/rng.ts";
import {HEALTH_SCORE_FILE, HealthScoreFileError, loadHealthScore, parseHealthScore} from "../src/rules/health-score.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const shipped = () => JSON.parse(readFileSync(HEALTH_SCORE_FILE, "utf8"));
const problemsOf = (doc: unknown): string[] => {
  try {
    parseHealthScore(JSON.stringify(doc), "health-score.json");
  } catch (e) {
    if (e instanceof HealthScoreFileError) return e.problems;
    throw e;
  }
  return [];
};

describe("the constrained fit", () => {
  it("projects onto the weights' box and simplex: inside every bound, summing to 1", () => {
    const lo = [0, 0.1, 0, 0];
    const hi = [1, 1, 0.2, 1];
    for (const v of [
      [5, -3, 4, 0],
      [0.25, 0.25, 0.25, 0.25],
      [-1, -1, -1, -1],
      [0, 0, 9, 0],
    ]) {
      const w = projectToBoxedSimplex(v, lo, hi);
      expect(w.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 9);
      w.forEach((x, k) => {
        expect(x).toBeGreaterThanOrEqual(lo[k]! - 1e-12);
        expect(x).toBeLessThanOrEqual(hi[k]! + 1e-12);
      });
    }
    // a point already inside stays where it is
    expect(projectToBoxedSimplex([0.4, 0.3, 0.1, 0.2], lo, hi).map((x) => +x.toFixed(9))).toEqual([0.4, 0.3, 0.1, 0.2]);
  });

  // labels drawn from a known weighted sum: the fit finds the weights that made them
  const simulate = (n: number, seed: number) => {
    const rng = new Rng(seed, 1);
    const truth = [0.6, 0.3, 0.1, 0];
    const values = truth.map(() => new Float64Array(n));
    const label = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let risk = 0;
      truth.forEach((w, k) => {
        const v = rng.u();
        values[k]![i] = v;
        risk += w * (1 - v);
      });
      label[i] = rng.u() < 1 / (1 + Math.exp(-(-4 + 6 * risk))) ? 1 : 0;
    }
    return {truth, data: {values, label}};
  };
  const comps = (over: Partial<FitComponent> = {}): FitComponent[] =>
    ["a", "b", "c", "d"].map((id) => ({
      id,
      worst: 0,
      best: 1,
      whenMissing: 0.5,
      higherIsBetter: true,
      minWeight: 0,
      maxWeight: 1,
      ...over,
    }));

  it("recovers the weights that generated the labels", () => {
    const {truth, data} = simulate(40_000, 3);
    const f = fitHealthScore(data, comps(), {anchors: false});
    f.weights.forEach((w, k) => expect(Math.abs(w - truth[k]!)).toBeLessThan(0.06));
    expect(f.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 9);
  });

  it("keeps each weight inside its configured minimum and maximum", () => {
    const {data} = simulate(20_000, 4);
    const scores = data.values.map((v) => componentScores(v, {worst: 0, best: 1, whenMissing: 0.5}));
    const f = fitWeights(scores, data.label, {lo: [0, 0, 0, 0.15], hi: [0.4, 1, 1, 1]}, [0.25, 0.25, 0.25, 0.25]);
    expect(f.weights[0]).toBeLessThanOrEqual(0.4 + 1e-9);
    expect(f.weights[3]).toBeGreaterThanOrEqual(0.15 - 1e-9);
    expect(f.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 9);
  });

  it("proposes anchors from quantiles that run the way the component declares", () => {
    const values = Float64Array.from({length: 1000}, (_, i) => i / 10);
    for (const higherIsBetter of [true, false]) {
      const c = comps({higherIsBetter, worst: higherIsBetter ? 0 : 100, best: higherIsBetter ? 100 : 0})[0]!;
      const cands = anchorCandidates(values, c);
      expect(cands.length).toBeGreaterThan(4);
      for (const a of cands) expect(higherIsBetter ? a.worst < a.best : a.worst > a.best).toBe(true);
    }
    // a value that never varies offers no anchors but the current ones
    expect(anchorCandidates(new Float64Array(50), comps()[0]!)).toHaveLength(1);
  });

  it("scores missing values as whenMissing and clamps to the anchors", () => {
    const s = componentScores(Float64Array.from([NaN, -5, 5, 50]), {worst: 0, best: 10, whenMissing: 2});
    expect(Array.from(s)).toEqual([0.2, 0, 0.5, 1]);
    expect(Array.from(riskScores([s], [1]))).toEqual([80, 100, 50, 0]);
  });
});

describe("src/rules/health-score.json", () => {
  it("is valid as shipped and covers every component of config.ts", () => {
    const h = loadHealthScore();
    expect(h.components.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 3);
    for (const seg of Object.values(h.segments))
      expect(Object.values(seg.weights).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 3);
  });

  it("a broken hand edit fails with every problem at its place", () => {
    const doc = shipped();
    doc.components.usage_level.weight += 0.3; // the weights no longer sum to 1
    doc.components.support_load.worst = doc.components.support_load.best - 1; // more tickets are worse: worst must be above best
    doc.components.nps.minWeight = 0.6;
    doc.components.nps.maxWeight = 0.2;
    doc.components.made_up = {weight: 0, worst: 0, best: 1};
    delete doc.components.activation;
    const problems = problemsOf(doc);
    expect(problems.join("\n")).toMatch(/components: the weights sum to 1\.\d+, they must sum to 1/);
    expect(problems.join("\n")).toMatch(
      /components\.support_load: worst -?[\d.]+ and best [\d.]+ run the wrong way — High-priority tickets \(30d\) is lower is healthier, so worst must be above best/,
    );
    expect(problems).toContain("components.nps: minWeight 0.6 is above maxWeight 0.2");
    expect(problems.join("\n")).toMatch(/components\.made_up: no such component in src\/rules\/config\.ts/);
    expect(problems.join("\n")).toMatch(/components\.activation: missing/);
  });

  it("names schema mistakes by path, and a file that is not JSON as such", () => {
    const doc = shipped();
    doc.components.usage_trend.weight = "0.1";
    doc.segmentBy = "favourite_colour";
    doc.extra = true;
    const problems = problemsOf(doc);
    expect(problems.some((p) => p.startsWith("components.usage_trend.weight:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("segmentBy:"))).toBe(true);
    expect(problems.join("\n")).toMatch(/extra/);
    expect(() => parseHealthScore("{ weights: 1", "x.json")).toThrow(/x\.json: 1 problem\(s\)\n {2}- not valid JSON/);
  });

  it("a segment's own weights must sum to 1 and rest on enough churned accounts", () => {
    const doc = shipped();
    const ids = Object.keys(doc.components);
    doc.segments = {Tiny: {weights: Object.fromEntries(ids.map((id) => [id, 0.5])), churned: 3}};
    const problems = problemsOf(doc);
    expect(problems.join("\n")).toMatch(/segments\.Tiny\.weights: sum to \d+, they must sum to 1/);
    expect(problems.join("\n")).toMatch(/segments\.Tiny: fitted on 3 churned accounts, fewer than minSegmentChurned/);
  });
});

describe("npm run health:tune", () => {
  it("fits on earlier cutoffs, evaluates on later ones, and leaves a segment with too little history on the global weights", async () => {
    const file = await ensureTestWarehouse();
    const {w, asOf} = await attachWarehouse(file);
    try {
      const current = loadHealthScore();
      const measured = new Set(current.components.map((c) => c.id));
      // with a bar no segment of a 600-account portfolio reaches, every one falls back
      const report = await tuneHealthScore(w.conn, {...current, minSegmentChurned: 10_000}, measured, {asOf});
      expect(report.fitCutoffs.at(-1)! < report.testCutoffs[0]!).toBe(true);
      expect(report.segments.every((s) => !s.own && s.weights === null)).toBe(true);
      expect(Object.keys(report.proposal.segments)).toEqual([]);
      expect(Object.keys(report.proposal.segmentsOnGlobal).sort()).toEqual(
        report.segments.map((s) => s.segment).sort(),
      );
      // the proposal is a file the build accepts, with the bounds kept
      const h = parseHealthScore(JSON.stringify(report.proposal), "proposal");
      expect(h.components.reduce((s, c) => s + c.weight, 0)).toBeCloseTo(1, 3);
      // the tuner's figures are the figures the score has: recompute the AUC rows from the snapshots
      const rows = await all<{n: number}>(
        w.conn,
        `SELECT count(*)::INTEGER AS n FROM marts.model_training_snapshots WHERE CAST(as_of_date AS VARCHAR) = '${report.testCutoffs[0]}'`,
      );
      expect(report.perCutoff[0]!.accounts).toBe(rows[0]!.n);
      for (const c of report.perCutoff) {
        expect(c.proposed.auc).toBeGreaterThan(0.5);
        expect(Object.values(c.proposed.mix).reduce((s, x) => s + x, 0)).toBe(c.accounts);
      }
      // a segment with enough history gets its own weights, fitted on its own rows
      const own = await tuneHealthScore(w.conn, {...current, minSegmentChurned: 1}, measured, {asOf, anchors: false});
      expect(own.segments.some((s) => s.own)).toBe(true);
      for (const s of own.segments.filter((x) => x.own))
        expect(Object.values(s.weights!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    } finally {
      w.close();
    }
  }, 300_000);

  it("proposes without changing anything; --apply adopts; a broken file stops it with its problems", async () => {
    const warehouse = await ensureTestWarehouse();
    const dir = mkdtempSync(path.join(os.tmpdir(), "saasguard-tune-"));
    const file = path.join(dir, "health-score.json");
    copyFileSync(HEALTH_SCORE_FILE, file);
    const before = readFileSync(file, "utf8");
    const out = path.join(dir, "proposal.json");
    const args = ["tsx", "loaders/cli/health-tune.ts", "--warehouse", warehouse, "--file", file, "--out", out];
    const text = execFileSync("npx", [...args, "--weights-only"], {encoding: "utf8"});
    expect(text).toMatch(/ROC-AUC current → proposed/);
    expect(text).toMatch(/Tier changes month to month/);
    expect(text).toMatch(/nothing changed: run with --apply/);
    expect(readFileSync(file, "utf8")).toBe(before);
    parseHealthScore(readFileSync(out, "utf8"), out);

    execFileSync("npx", [...args, "--weights-only", "--apply"], {encoding: "utf8"});
    expect(readFileSync(file, "utf8")).toBe(readFileSync(out, "utf8"));
    expect(JSON.parse(readFileSync(file, "utf8")).fitted.anchors).toBe(false);

    writeFileSync(file, before.replace('"segmentBy": "plan_tier"', '"segmentBy": "plan_tire"'));
    const bad = spawnSync("npx", args, {encoding: "utf8"});
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/health-score\.json: 1 problem\(s\)\n\s+- segmentBy:/);
    expect(bad.stderr).toMatch(/src\/rules\/health-score\.json is unchanged/);
  }, 300_000);
});
