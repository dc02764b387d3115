/**
 * Column-major numeric matrices for the churn model.
 *
 * Every feature is one `Float32Array` of length `nRows`. Values are float32 on purpose: the
 * exported ONNX model receives float32 inputs, so training, TS scoring and ONNX scoring all see
 * exactly the same numbers (see tree.ts and binning.ts on float32-safe thresholds).
 *
 * - numeric features: the value, `NaN` when missing;
 * - categorical features: the integer index of the category in `FeatureMeta.categories`
 *   (0, 1, 2, ...), `NaN` when missing or unknown.
 */

export type FeatureKind = "numeric" | "categorical";

export interface FeatureMeta {
  name: string;
  kind: FeatureKind;
  /** categorical only: the category labels; a value `k` in the matrix means `categories[k]` */
  categories?: string[];
  /** numeric only: the values the model was trained on (absent for models trained before it was recorded) */
  range?: FeatureRange;
}

/** What a numeric feature's training values looked like: the basis of what a prediction request may send. */
export interface FeatureRange {
  min: number;
  max: number;
  /** every value was a whole number (a count, a number of days) */
  integer: boolean;
  /** every value was 0 or 1 (a yes/no flag: true/false are accepted for it) */
  binary: boolean;
}

/** The range of each numeric feature over the given datasets (same features); NaN (missing) is ignored. */
export function featureRanges(datasets: readonly Dataset[]): (FeatureRange | undefined)[] {
  return datasets[0]!.features.map((f, j) => {
    if (f.kind !== "numeric") return undefined;
    let min = Infinity;
    let max = -Infinity;
    let integer = true;
    let binary = true;
    for (const ds of datasets)
      for (const v of ds.columns[j]!) {
        if (Number.isNaN(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
        if (integer && !Number.isInteger(v)) integer = false;
        if (binary && v !== 0 && v !== 1) binary = false;
      }
    return min <= max ? {min, max, integer, binary} : undefined;
  });
}

export interface Dataset {
  nRows: number;
  features: FeatureMeta[];
  /** column-major: `columns[j][i]` is feature j of row i (float32, NaN = missing) */
  columns: Float32Array[];
}

/** Largest supported number of categories of a categorical feature (one histogram bin each). */
export const MAX_CATEGORIES = 254;

/** Checks shapes and categorical codes; throws an Error naming the feature and row. */
export function validateDataset(ds: Dataset): void {
  if (ds.columns.length !== ds.features.length) {
    throw new Error(`dataset has ${ds.columns.length} columns but ${ds.features.length} feature descriptions`);
  }
  ds.features.forEach((f, j) => {
    const col = ds.columns[j];
    if (col.length !== ds.nRows)
      throw new Error(`feature "${f.name}": column has ${col.length} rows, expected ${ds.nRows}`);
    if (f.kind === "categorical") {
      const k = f.categories?.length ?? 0;
      if (k === 0) throw new Error(`categorical feature "${f.name}" has no categories`);
      if (k > MAX_CATEGORIES)
        throw new Error(`categorical feature "${f.name}" has ${k} categories (max ${MAX_CATEGORIES})`);
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (!Number.isNaN(v) && (!Number.isInteger(v) || v < 0 || v >= k)) {
          throw new Error(`categorical feature "${f.name}", row ${i}: code ${v} is not an integer in [0, ${k - 1}]`);
        }
      }
    }
  });
}

/** Builds a dataset from row-major JS numbers (NaN/null/undefined = missing). */
export function fromRows(
  rows: ReadonlyArray<ReadonlyArray<number | null | undefined>>,
  features: FeatureMeta[],
): Dataset {
  const nRows = rows.length;
  const columns = features.map(() => new Float32Array(nRows));
  for (let i = 0; i < nRows; i++) {
    const r = rows[i];
    if (r.length !== features.length) throw new Error(`row ${i} has ${r.length} values, expected ${features.length}`);
    for (let j = 0; j < features.length; j++) {
      const v = r[j];
      columns[j][i] = v === null || v === undefined ? NaN : v;
    }
  }
  const ds = {nRows, features, columns};
  validateDataset(ds);
  return ds;
}

/** Encodes a categorical label to its code (NaN for null/unknown labels). */
export function encodeCategory(meta: FeatureMeta, label: string | null | undefined): number {
  if (label === null || label === undefined || !meta.categories) return NaN;
  const k = meta.categories.indexOf(label);
  return k < 0 ? NaN : k;
}

/** Row-major float32 copy ([nRows, nFeatures]), the layout the ONNX model takes. */
export function toRowMajor(ds: Dataset): Float32Array {
  const f = ds.columns.length;
  const out = new Float32Array(ds.nRows * f);
  for (let j = 0; j < f; j++) {
    const col = ds.columns[j];
    for (let i = 0; i < ds.nRows; i++) out[i * f + j] = col[i];
  }
  return out;
}

/** Row i as a Float64Array (for single-row scoring / SHAP). */
export function getRow(ds: Dataset, i: number, out = new Float64Array(ds.columns.length)): Float64Array {
  for (let j = 0; j < ds.columns.length; j++) out[j] = ds.columns[j][i];
  return out;
}

/** The rows selected by `idx`, as a new dataset. */
export function subsetRows(ds: Dataset, idx: ArrayLike<number>): Dataset {
  const columns = ds.columns.map((col) => {
    const c = new Float32Array(idx.length);
    for (let i = 0; i < idx.length; i++) c[i] = col[idx[i]];
    return c;
  });
  return {nRows: idx.length, features: ds.features, columns};
}
