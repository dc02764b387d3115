/** The bench's growth table: exponents from known power laws, and the step that is not linear named. */
import {describe, expect, it} from "vitest";
import {exponent, growthLines, type SizedBuild} from "../bench/growth.ts";

const sized = (customers: number, stages: Record<string, number>): SizedBuild => ({
  customers,
  rawRows: customers * 1500,
  rawSeconds: stages.generate!,
  martSeconds: Object.entries(stages)
    .filter(([s]) => s !== "generate")
    .reduce((a, [, t]) => a + t, 0),
  peakRssGiB: 1 + customers / 1e6,
  stages,
});

describe("bench growth table", () => {
  it("recovers the exponent of a power law", () => {
    expect(exponent(1000, 2, 10_000, 20)).toBeCloseTo(1, 12);
    expect(exponent(1000, 2, 10_000, 200)).toBeCloseTo(2, 12);
    expect(exponent(5000, 3, 20_000, 3)).toBe(0);
  });

  it("prints a row per size and names a step that grows faster than the data", () => {
    // generate and features linear; scoring quadratic
    const at = (n: number) =>
      sized(n, {generate: n / 1000, features: n / 500, scoring: (n / 10_000) ** 2 * 3, site: 9});
    const lines = growthLines([at(100_000), at(5000), at(1_000_000), at(20_000)]);
    const rows = lines.filter((l) => /^\| [\d,]+ \|/.test(l));
    expect(rows.map((r) => r.split("|")[1]!.trim())).toEqual(["5,000", "20,000", "100,000", "1,000,000"]);
    expect(rows[3]).toContain("| 1000 | 1.00 |"); // raw data: 1,000 s, k = 1
    expect(lines.join("\n")).toMatch(/not near-linear .*scoring \(k=2\.00: grows faster than the data\)/);
    expect(lines.join("\n")).not.toMatch(/not near-linear .*features/);
    expect(growthLines([at(5000)])).toEqual([]);
  });

  it("says so when every step grows near-linearly", () => {
    const at = (n: number) => sized(n, {generate: n / 1000, features: n / 500});
    expect(growthLines([at(5000), at(50_000)]).at(-1)).toMatch(/every step of ≥ 2 s grows near-linearly/);
  });
});
