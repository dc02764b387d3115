/**
 * The prediction endpoint's fast validation path (`provenPredictionItems` /
 * `ServedModel.isValidFeatures`) must never accept a body the zod route would refuse, and must
 * hand the model exactly what zod would: checked here against the zod schemas on thousands of
 * mutated bodies (unknown and missing features, wrong types, unknown categories, long strings,
 * prototype keys, batch shapes). Real accounts' feature rows must take the fast path.
 */
import {dirname, join} from "node:path";
import {beforeAll, expect, it} from "vitest";
import {loadModel} from "../loaders/model/registry.ts";
import {ServedModel, type FeatureValue} from "../server/api/served-model.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {predictionRequestSchema, provenPredictionItems} from "../server/api/schemas.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const LIMIT = 5;
let m: ServedModel;
let rows: Record<string, FeatureValue>[] = [];

beforeAll(async () => {
  const warehousePath = await ensureTestWarehouse();
  const modelsDir = join(dirname(warehousePath), "models");
  m = new ServedModel(await loadModel(modelsDir), "test");
  rows = (await sampleFeatureRows(warehousePath, modelsDir, 60)).map((r) => r.features);
});

/** What the zod route hands to the model for `body`, or null when it refuses the body. */
function zodRows(body: unknown): {id: string | null; features: unknown}[] | null {
  const r = predictionRequestSchema(LIMIT).safeParse(body);
  if (!r.success) return null;
  const items = r.data.instances
    ? r.data.instances.map((x) => ({id: x.id ?? null, features: x.features}))
    : [{id: null, features: r.data.features}];
  const out: {id: string | null; features: unknown}[] = [];
  for (const it of items) {
    const f = m.schema.safeParse(it.features);
    if (!f.success) return null;
    out.push({id: it.id, features: f.data});
  }
  return out;
}

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1.5,
  1e300,
  "",
  "x",
  "Growth",
  "y".repeat(201),
  "1",
  [],
  [1],
  {},
  {a: 1},
];
const ODD_KEYS = ["__proto__", "constructor", "toString", "k".repeat(101), "", "extra"];

function mutateFeatures(f: Record<string, FeatureValue>, r: () => number): unknown {
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const names = Object.keys(f);
  const out: Record<string, unknown> = {...f};
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n; k++) {
    const what = r();
    if (what < 0.35) out[pick(names)] = pick(ODD_VALUES);
    else if (what < 0.5) delete out[pick(names)];
    else if (what < 0.65)
      Object.defineProperty(out, pick(ODD_KEYS), {
        value: pick(ODD_VALUES),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    else if (what < 0.8) {
      const cat = m.model.features.find((x) => x.kind === "categorical");
      if (cat) out[cat.name] = pick([...cat.categories!, "Nope", cat.categories![0]!.toLowerCase(), null]);
    } else out[pick(names)] = r() < 0.5 ? null : Math.round(r() * 1000) / 7;
  }
  // JSON round trip: the server only ever sees parsed JSON
  return JSON.parse(JSON.stringify(out));
}

it("proves real accounts' bodies valid, single and batched, with zod's result", () => {
  for (const f of rows) {
    const body = {features: f};
    const items = provenPredictionItems(m, body, LIMIT);
    expect(items).not.toBeNull();
    expect(items!.map((i) => ({id: i.id, features: i.features}))).toEqual(zodRows(body));
  }
  const batch = {instances: rows.slice(0, LIMIT).map((f, i) => (i % 2 ? {features: f} : {id: `a${i}`, features: f}))};
  expect(provenPredictionItems(m, batch, LIMIT)!.map((i) => ({id: i.id, features: i.features}))).toEqual(
    zodRows(batch),
  );
});

it("never accepts a body the zod route refuses, over thousands of mutated bodies", () => {
  const r = rng(20261123);
  let proven = 0;
  let refused = 0;
  for (let k = 0; k < 4000; k++) {
    const f = rows[k % rows.length]!;
    const shape = r();
    let body: unknown;
    if (shape < 0.6) body = {features: mutateFeatures(f, r)};
    else if (shape < 0.7) body = {features: f};
    else if (shape < 0.9) {
      const n = Math.floor(r() * (LIMIT + 2));
      body = {
        instances: Array.from({length: n}, (_, i) =>
          r() < 0.8
            ? {
                id: r() < 0.5 ? `id${i}` : undefined,
                features: r() < 0.7 ? rows[(k + i) % rows.length] : mutateFeatures(f, r),
              }
            : {id: r() < 0.5 ? 5 : "z".repeat(129), features: f},
        ),
      };
    } else
      body = [
        {features: f},
        {features: f, instances: [{features: f}]},
        {features: f, other: 1},
        {instances: {}},
        {},
        [],
        null,
        "x",
        {features: null},
        {instances: [{features: f, x: 1}]},
      ][Math.floor(r() * 10)];
    body = JSON.parse(JSON.stringify(body) ?? "null");
    const fast = provenPredictionItems(m, body, LIMIT);
    const slow = zodRows(body);
    if (fast) {
      proven++;
      expect(slow, JSON.stringify(body).slice(0, 300)).not.toBeNull();
      expect(fast.map((i) => ({id: i.id, features: i.features}))).toEqual(slow);
    } else if (!slow) refused++;
  }
  // both sides of the check were exercised
  expect(proven).toBeGreaterThan(300);
  expect(refused).toBeGreaterThan(700);
});
