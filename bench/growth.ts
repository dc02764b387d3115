/**
 * How a build's time and memory grow with the portfolio: the builds of the sizes measured
 * (5,000 → 20,000 → 100,000 → 1,000,000 customers) in a small table, with the growth exponent
 * between each pair of sizes — time ∝ customers^k, so k = ln(t₂/t₁) / ln(n₂/n₁): 1 is linear,
 * below 1 means fixed costs still weigh, above 1 means the step grows faster than the data.
 * Each step of the build gets its exponent too, so a step that is not near-linear is named.
 */

export interface SizedBuild {
  customers: number;
  rawRows: number;
  rawSeconds: number;
  martSeconds: number;
  peakRssGiB: number;
  stages: Record<string, number>;
}

export const exponent = (n1: number, t1: number, n2: number, t2: number) => Math.log(t2 / t1) / Math.log(n2 / n1);

/** A step grows near-linearly when its exponent is within this of 1. */
const NEAR_LINEAR = 0.15;
/** Steps shorter than this at the larger size are timing noise, not a trend. */
const MIN_SECONDS = 2;

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The growth table's lines (empty with fewer than two sizes). */
export function growthLines(builds: SizedBuild[]): string[] {
  const b = [...builds].sort((x, y) => x.customers - y.customers);
  if (b.length < 2) return [];
  const out = [
    "",
    "growth with the portfolio (time ∝ customers^k between consecutive sizes; k = 1 is linear)",
    "| customers | raw rows | raw data s | k | marts s | k | peak GiB | k |",
    "|---|---|---|---|---|---|---|---|",
  ];
  b.forEach((x, i) => {
    const p = b[i - 1];
    const k = (a: number, c: number) => (p ? exponent(p.customers, a, x.customers, c).toFixed(2) : "");
    out.push(
      `| ${x.customers.toLocaleString("en-US")} | ${x.rawRows.toLocaleString("en-US")} | ${fmt(x.rawSeconds)} | ${k(p?.rawSeconds ?? 0, x.rawSeconds)} | ${fmt(x.martSeconds)} | ${k(p?.martSeconds ?? 0, x.martSeconds)} | ${fmt(x.peakRssGiB)} | ${k(p?.peakRssGiB ?? 0, x.peakRssGiB)} |`,
    );
  });
  // per step, the largest pair of sizes (the growth that matters at scale)
  const [p, x] = [b.at(-2)!, b.at(-1)!];
  const steps = Object.keys(x.stages).filter((s) => s !== "site" && p.stages[s] !== undefined);
  const ks = steps.map(
    (s) => [s, exponent(p.customers, p.stages[s]!, x.customers, x.stages[s]!), x.stages[s]!] as const,
  );
  out.push(
    `steps, ${p.customers.toLocaleString("en-US")} → ${x.customers.toLocaleString("en-US")}: ${ks
      .map(([s, k, t]) => `${s} k=${k.toFixed(2)} (${fmt(t)} s)`)
      .join(", ")}`,
  );
  const off = ks.filter(([, k, t]) => t >= MIN_SECONDS && Math.abs(k - 1) > NEAR_LINEAR);
  out.push(
    off.length
      ? `not near-linear (|k − 1| > ${NEAR_LINEAR}, ≥ ${MIN_SECONDS} s): ${off
          .map(
            ([s, k]) => `${s} (k=${k.toFixed(2)}: ${k > 1 ? "grows faster than the data" : "fixed costs still weigh"})`,
          )
          .join(", ")}`
      : `every step of ≥ ${MIN_SECONDS} s grows near-linearly (|k − 1| ≤ ${NEAR_LINEAR})`,
  );
  return out;
}
