/**
 * Synthetic churn-like data with KNOWN generating probabilities, for the model tests.
 *
 * logit = 1.5·sin(2·x0) + (x1 > 0.5 ? 1 : −0.5)·x2 + 0.8·x3·x4 + catEffect[c]
 *         + (x5 missing ? 1 : 0.5·x5) − 1.2,  other features are noise.
 * Feature "plan" (index `catIndex`) is categorical with 6 categories whose effects are not
 * monotone in their code; x5 is missing for ~15% of rows.
 */
import type {Dataset, FeatureMeta} from "../../loaders/model/dataset.ts";
import {makeRng} from "../../loaders/model/rng.ts";

export const CAT_EFFECT = [0.9, -1.2, 0.1, 1.4, -0.6, 0.3];

export interface Synth {
  data: Dataset;
  y: Uint8Array;
  /** true P(y = 1 | x) */
  prob: Float64Array;
}

function gauss(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

export function synth(nRows: number, nFeatures: number, seed: number): Synth {
  if (nFeatures < 7) throw new Error("synth needs at least 7 features");
  const rng = makeRng(seed);
  const next = () => rng.next();
  const catIndex = 6;
  const features: FeatureMeta[] = Array.from({length: nFeatures}, (_, j) =>
    j === catIndex
      ? {name: "plan", kind: "categorical", categories: ["a", "b", "c", "d", "e", "f"]}
      : {name: `x${j}`, kind: "numeric"},
  );
  const columns = features.map(() => new Float32Array(nRows));
  const y = new Uint8Array(nRows);
  const prob = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) {
    for (let j = 0; j < nFeatures; j++) {
      if (j === catIndex) columns[j][i] = rng.int(CAT_EFFECT.length);
      else columns[j][i] = gauss(next);
    }
    if (next() < 0.15) columns[5][i] = NaN;
    const x = (j: number) => columns[j][i];
    const c = x(catIndex);
    const logit =
      1.5 * Math.sin(2 * x(0)) +
      (x(1) > 0.5 ? 1 : -0.5) * x(2) +
      0.8 * x(3) * x(4) +
      CAT_EFFECT[c] +
      (Number.isNaN(x(5)) ? 1 : 0.5 * x(5)) -
      1.2;
    prob[i] = 1 / (1 + Math.exp(-logit));
    y[i] = next() < prob[i] ? 1 : 0;
  }
  return {data: {nRows, features, columns}, y, prob};
}
