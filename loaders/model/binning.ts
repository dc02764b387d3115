/**
 * Binning: every feature is mapped once, before training, to at most 255 bins plus one bin for
 * missing values, so split finding scans histograms instead of sorted values.
 *
 * - Numeric features: quantile bins over the distinct values; each cut is a float32 value t with
 *   max(left bin) ≤ t < min(right bin) (the float32 rounding of the midpoint), and becomes the
 *   split threshold as it is, so a trained tree compares raw values exactly as training did.
 * - Categorical features: the category code is the bin.
 * - Missing (NaN): bin `nBins`.
 */
import type {Dataset, FeatureMeta} from "./dataset.ts";

/** How one feature maps to histogram bins; the missing bin is `nBins`. */
export interface BinMapper {
  kind: "numeric" | "categorical";
  /** number of non-missing bins */
  nBins: number;
  /** numeric: float32 upper bounds of bins 0..nBins-2 (x <= thresholds[b] ⇒ bin ≤ b) */
  thresholds: Float64Array;
}

/** Float32 threshold t with a ≤ t < b for consecutive distinct float32 values a < b. */
export function float32Midpoint(a: number, b: number): number {
  const t = Math.fround(a / 2 + b / 2);
  return t >= a && t < b ? t : a;
}

export function buildBinMapper(col: Float32Array, meta: FeatureMeta, maxBins: number): BinMapper {
  if (meta.kind === "categorical") {
    return {kind: "categorical", nBins: meta.categories?.length ?? 0, thresholds: new Float64Array(0)};
  }
  const vals = new Float32Array(col.length);
  let n = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i])) vals[n++] = col[i];
  const sorted = vals.subarray(0, n).sort();
  // distinct values and their counts
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (distinct.length > 0 && sorted[i] === distinct[distinct.length - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  const cuts: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) cuts.push(float32Midpoint(distinct[i], distinct[i + 1]));
  } else {
    // greedy equal-frequency bins over distinct values
    let cum = 0;
    for (let i = 0; i + 1 < distinct.length && cuts.length < maxBins - 1; i++) {
      cum += counts[i];
      if (cum >= ((cuts.length + 1) * n) / maxBins) cuts.push(float32Midpoint(distinct[i], distinct[i + 1]));
    }
  }
  return {kind: "numeric", nBins: Math.max(1, cuts.length + 1), thresholds: Float64Array.from(cuts)};
}

/** Bin of a value: NaN → nBins; numeric → first b with x <= thresholds[b]; categorical → code. */
export function binValue(m: BinMapper, x: number): number {
  if (Number.isNaN(x)) return m.nBins;
  if (m.kind === "categorical") return x;
  const t = m.thresholds;
  let lo = 0;
  let hi = t.length; // answer in [0, t.length]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x <= t[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A dataset as bins: row-major Uint8 codes (cache-friendly histogram building) and each feature's mapper. */
export interface BinnedData {
  mappers: BinMapper[];
  /** histogram offset of feature j, in bins (its missing bin included); offs[F] is the total */
  offs: Int32Array;
  totalBins: number;
  /** bins[i * F + j]: the bin of row i, feature j */
  bins: Uint8Array;
  nRows: number;
  nFeatures: number;
}

export function binDataset(data: Dataset, maxBins: number): BinnedData {
  const n = data.nRows;
  const F = data.features.length;
  const mappers = data.features.map((m, j) => buildBinMapper(data.columns[j], m, maxBins));
  const offs = new Int32Array(F + 1);
  for (let j = 0; j < F; j++) offs[j + 1] = offs[j] + mappers[j].nBins + 1;
  const bins = new Uint8Array(n * F);
  for (let j = 0; j < F; j++) {
    const col = data.columns[j];
    const m = mappers[j];
    for (let i = 0; i < n; i++) bins[i * F + j] = binValue(m, col[i]);
  }
  return {mappers, offs, totalBins: offs[F], bins, nRows: n, nFeatures: F};
}
