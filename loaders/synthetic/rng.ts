/** Seeded randomness for the JS side of the generator (pure-rand's xoroshiro128+). */
import {xoroshiro128plus} from "pure-rand/generator/xoroshiro128plus";
import {uniformFloat64} from "pure-rand/distribution/uniformFloat64";
import type {RandomGenerator} from "pure-rand/types/RandomGenerator";

/** 32-bit integer mix (murmur3 finaliser) used to derive independent per-stream seeds. */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h | 0;
}

export class Rng {
  private readonly g: RandomGenerator;
  private spare: number | null = null;

  constructor(seed: number, stream: number) {
    this.g = xoroshiro128plus(mix32(seed, stream));
  }

  /** uniform in [0, 1) */
  u(): number {
    return uniformFloat64(this.g);
  }

  /** standard normal (Box–Muller, pairs cached) */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.u();
    const u2 = this.u();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.u() * (hi - lo + 1));
  }

  bernoulli(p: number): boolean {
    return this.u() < p;
  }

  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = this.u();
    while (p > l) {
      k++;
      p *= this.u();
    }
    return k;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.u() * xs.length)]!;
  }

  /** index drawn with the given (unnormalised) weights */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.u() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}
