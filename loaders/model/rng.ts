/** Seeded randomness for the model code (pure-rand xoroshiro128+; deterministic under a seed). */
import {uniformFloat64} from "pure-rand/distribution/uniformFloat64";
import {xoroshiro128plus} from "pure-rand/generator/xoroshiro128plus";

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
}

export function makeRng(seed: number): Rng {
  const g = xoroshiro128plus(seed | 0);
  return {
    next: () => uniformFloat64(g),
    int: (n: number) => Math.floor(uniformFloat64(g) * n),
  };
}

/** k distinct indices from [0, n), sorted ascending (partial Fisher–Yates). */
export function sampleWithoutReplacement(rng: Rng, n: number, k: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, k).sort();
}
