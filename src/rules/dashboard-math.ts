/**
 * The arithmetic behind the dashboards, as pure functions (no DOM, no Plot, no DuckDB), so it is
 * unit-tested in Node and reused by every page: intervals for expected churn, the uplift
 * simulator, playbook tiers and renewal stages, the measured risk findings, and the
 * encoding of a what-if row for the ONNX model. Business numbers come from config.ts.
 */
import {config, RISK_TIERS, type RiskTier} from "./config.js";
import {PRIORITIES, type Priority} from "./playbooks.js";

// ---------------------------------------------------------------- expected churn interval

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
    );
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  /** central coverage, e.g. 0.9 */
  level: number;
}

/**
 * Normal-approximation interval for a sum of independent Bernoulli outcomes weighted by ARR:
 * the mean is Σp·ARR and the variance Σp(1−p)·ARR² (computed by the loader). The lower end is
 * clipped at 0.
 */
export function normalInterval(mean: number, variance: number, level = 0.9): Interval {
  const z = normalQuantile(0.5 + level / 2);
  const sd = Math.sqrt(Math.max(variance, 0));
  return {mean, lo: Math.max(0, mean - z * sd), hi: mean + z * sd, level};
}

// ---------------------------------------------------------------- uplift simulator

export interface UpliftAccount {
  /** expected churned ARR in the next 90 days if nothing is done (p × ARR) */
  expected: number;
}

export interface UpliftPoint {
  /** accounts targeted (the top n by expected churned ARR) */
  n: number;
  /** cumulative expected churned ARR of the targeted accounts */
  atRisk: number;
  /** ARR the interventions are expected to keep: atRisk × effectiveness */
  recoverable: number;
  /** n × cost per intervention */
  cost: number;
  /** recoverable − cost */
  net: number;
  /** recoverable ÷ cost (∞ when the cost is 0) */
  roi: number;
}

/**
 * Cumulative recovery when the top-n accounts (by expected churned ARR, largest first) get an
 * intervention that prevents `effectiveness` of their expected churn, at `cost` each.
 * `accounts` need not be sorted.
 */
export function upliftCurve(
  accounts: readonly UpliftAccount[],
  effectiveness: number,
  cost: number,
  maxN = accounts.length,
): UpliftPoint[] {
  const sorted = accounts.map((a) => a.expected).sort((x, y) => y - x);
  const out: UpliftPoint[] = [];
  let atRisk = 0;
  for (let i = 0; i < Math.min(maxN, sorted.length); i++) {
    atRisk += sorted[i]!;
    const n = i + 1;
    const recoverable = atRisk * effectiveness;
    const c = n * cost;
    out.push({n, atRisk, recoverable, cost: c, net: recoverable - c, roi: c > 0 ? recoverable / c : Infinity});
  }
  return out;
}

/** The curve's points at the given account counts (counts beyond the portfolio are capped). */
export function roiAt(curve: readonly UpliftPoint[], counts: readonly number[]): UpliftPoint[] {
  if (curve.length === 0) return [];
  return counts.map((k) => curve[Math.min(k, curve.length) - 1]!);
}

/** Number of accounts after which one more intervention costs more than it recovers (marginal ROI < 1). */
export function breakEvenAccounts(accounts: readonly UpliftAccount[], effectiveness: number, cost: number): number {
  const sorted = accounts.map((a) => a.expected).sort((x, y) => y - x);
  let n = 0;
  while (n < sorted.length && sorted[n]! * effectiveness >= cost) n++;
  return n;
}

// ---------------------------------------------------------------- playbook timing

const SEVERITY: Record<RiskTier, number> = {Critical: 3, High: 2, Medium: 1, Low: 0};

/**
 * The tier whose playbook an account follows: the more severe of its health-score tier and its
 * churn-model tier (either signal is enough to act on). loaders/sql/mart_cta_candidates.sql
 * applies the same rule to the CTAs.
 */
export function actionTier(healthTier: RiskTier, modelTier: RiskTier): RiskTier {
  return SEVERITY[modelTier] > SEVERITY[healthTier] ? modelTier : healthTier;
}

/** The recommended-action text of a tier (config.riskTiers). */
export function recommendedAction(tier: RiskTier): string {
  return config.riskTiers.find((t) => t.tier === tier)?.recommendedAction ?? "";
}

/**
 * The tier named like a CTA priority ("critical" → "Critical"): priorities share the tiers'
 * names, colours and act-within windows (loaders/cta.ts → cfg.priorities).
 */
export function priorityLabel(priority: Priority): RiskTier {
  return RISK_TIERS[PRIORITIES.indexOf(priority)]!;
}

/**
 * The renewal-playbook stage an account is in: the smallest of config.renewalStagesDays
 * (120/90/60/30) that is ≥ the days left, or null when the renewal is further away.
 */
export function renewalStage(daysToRenewal: number): number | null {
  const stages = [...config.renewalStagesDays].sort((a, b) => a - b);
  for (const s of stages) if (daysToRenewal <= s) return s;
  return null;
}

// ---------------------------------------------------------------- measured findings

export interface SignalBucket {
  analysis: "usage_decay" | "support_load" | "activation_gate" | string;
  bucket_order: number;
  bucket: string;
  /** the bucket belongs to the risk group */
  in_signal: boolean;
  observations: number;
  churned: number;
}

export interface Finding {
  /** churn rate of the risk group */
  signalRate: number;
  /** churn rate of the comparison group */
  baseRate: number;
  signalObservations: number;
  baseObservations: number;
  /** signalRate ÷ baseRate */
  multiplier: number;
  /** 1 − baseRate ÷ signalRate: the reduction the healthy behaviour goes with */
  reduction: number;
}

function rate(rows: readonly SignalBucket[]): {rate: number; n: number} {
  const n = rows.reduce((s, r) => s + r.observations, 0);
  const c = rows.reduce((s, r) => s + r.churned, 0);
  return {rate: n > 0 ? c / n : NaN, n};
}

/**
 * A risk finding measured from `marts.mart_risk_signals` rows of one analysis:
 * - compare "rest" (default): the risk group against the accounts outside it
 *   (usage decay: "< 5 events churn 3.2× more than active users"; activation gate);
 * - compare "all": the risk group against the base rate of everyone
 *   (support overload: "churn at 2.1× the base rate").
 */
export function measureFinding(
  rows: readonly SignalBucket[],
  analysis: string,
  compare: "rest" | "all" = "rest",
): Finding {
  const mine = rows.filter((r) => r.analysis === analysis);
  const sig = rate(mine.filter((r) => r.in_signal));
  const base = rate(compare === "all" ? mine : mine.filter((r) => !r.in_signal));
  return {
    signalRate: sig.rate,
    baseRate: base.rate,
    signalObservations: sig.n,
    baseObservations: base.n,
    multiplier: sig.rate / base.rate,
    reduction: 1 - base.rate / sig.rate,
  };
}

// ---------------------------------------------------------------- what-if encoding

export type CardFeature =
  {name: string; kind: "numeric"} | {name: string; kind: "categorical"; categories: readonly string[]};

/**
 * Encodes one account's feature values the way the model card says: numeric as float32,
 * categorical as the index of the label in `categories`, missing or unknown as NaN.
 */
export function encodeRow(features: readonly CardFeature[], values: Readonly<Record<string, unknown>>): Float32Array {
  const out = new Float32Array(features.length);
  features.forEach((f, j) => {
    const v = values[f.name];
    if (f.kind === "categorical") {
      const k = typeof v === "string" ? f.categories.indexOf(v) : typeof v === "number" && Number.isInteger(v) ? v : -1;
      out[j] = k >= 0 && k < f.categories.length ? k : NaN;
    } else {
      out[j] = typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : NaN;
    }
  });
  return out;
}
