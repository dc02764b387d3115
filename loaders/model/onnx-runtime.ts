/**
 * Scoring with the exported ONNX model through onnxruntime-web (WASM) in Node.
 *
 * One `run` costs a fixed ~0.2–0.3 ms plus ~20 µs per row (DESIGN.md), so callers should hand
 * over many rows at once: `score` runs all given rows in one call (split only above
 * `maxBatch`), and `createBatcher` coalesces concurrent single-row requests (e.g. from HTTP
 * handlers) into one `run`.
 */
import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = 1;

export interface OnnxScores {
  probability: Float32Array;
  raw: Float32Array;
}

export interface OnnxScorer {
  inputName: string;
  outputNames: readonly string[];
  /** number of features (from the input shape), or null if the model leaves it symbolic */
  nFeatures: number | null;
  /** rows: row-major float32 [n × nFeatures], NaN = missing */
  score(rows: Float32Array, n: number): Promise<OnnxScores>;
  release(): Promise<void>;
}

export async function loadOnnxScorer(bytes: Uint8Array, options: {maxBatch?: number} = {}): Promise<OnnxScorer> {
  const session = await ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
  const inputName = session.inputNames[0];
  const meta = session.inputMetadata[0];
  let nFeatures: number | null = null;
  if (meta && meta.isTensor && meta.shape.length === 2 && typeof meta.shape[1] === "number") nFeatures = meta.shape[1];
  const maxBatch = options.maxBatch ?? 65536;
  for (const o of ["probability", "raw_score"]) {
    if (!session.outputNames.includes(o))
      throw new Error(`ONNX model has no output "${o}" (outputs: ${session.outputNames.join(", ")})`);
  }
  const runChunk = async (rows: Float32Array, n: number, f: number): Promise<OnnxScores> => {
    const out = await session.run({[inputName]: new ort.Tensor("float32", rows, [n, f])});
    return {probability: out.probability.data as Float32Array, raw: out.raw_score.data as Float32Array};
  };
  return {
    inputName,
    outputNames: session.outputNames,
    nFeatures,
    async score(rows, n) {
      if (n === 0) return {probability: new Float32Array(0), raw: new Float32Array(0)};
      if (rows.length % n !== 0) throw new Error(`score: ${rows.length} values do not split into ${n} rows`);
      const f = rows.length / n;
      if (nFeatures !== null && f !== nFeatures)
        throw new Error(`score: rows have ${f} features, the model expects ${nFeatures}`);
      if (n <= maxBatch) return runChunk(rows, n, f);
      const probability = new Float32Array(n);
      const raw = new Float32Array(n);
      for (let s = 0; s < n; s += maxBatch) {
        const m = Math.min(maxBatch, n - s);
        const r = await runChunk(rows.subarray(s * f, (s + m) * f), m, f);
        probability.set(r.probability, s);
        raw.set(r.raw, s);
      }
      return {probability, raw};
    },
    release: () => session.release(),
  };
}

/**
 * Coalesces concurrent `scoreOne` calls made in the same tick (or until `maxRows` are queued)
 * into one `run`.
 */
export function createBatcher(scorer: OnnxScorer, nFeatures: number, options: {maxRows?: number} = {}) {
  const maxRows = options.maxRows ?? 1024;
  let queue: {
    row: Float32Array;
    resolve: (v: {probability: number; raw: number}) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let scheduled = false;
  const flush = async () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const rows = new Float32Array(batch.length * nFeatures);
    batch.forEach((b, i) => rows.set(b.row, i * nFeatures));
    try {
      const r = await scorer.score(rows, batch.length);
      batch.forEach((b, i) => b.resolve({probability: r.probability[i], raw: r.raw[i]}));
    } catch (e) {
      batch.forEach((b) => b.reject(e));
    }
  };
  return {
    scoreOne(row: ArrayLike<number>): Promise<{probability: number; raw: number}> {
      if (row.length !== nFeatures)
        return Promise.reject(new Error(`scoreOne: row has ${row.length} values, expected ${nFeatures}`));
      return new Promise((resolve, reject) => {
        queue.push({row: Float32Array.from(row), resolve, reject});
        if (queue.length >= maxRows) void flush();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}
