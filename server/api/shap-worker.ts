/**
 * Worker thread of the API server: exact TreeSHAP drivers for batches of encoded feature rows.
 *
 * TreeSHAP is the largest piece of per-prediction CPU (~25 µs a row, more than the ONNX run); on
 * the event loop it is time no other request is served, and under full load the event loop is
 * the bottleneck while the machine's second core has room. Here it runs beside the loop.
 *
 * workerData: {gbt, features, k}. Messages in: {id, n, rows} (Float32Array, n × features, row-major, NaN =
 * missing); out: {id, index, contribution} — per row the k largest |SHAP| features as indices
 * (-1 = none) and signed contributions, exactly `topDrivers` of `explainBatch` — or {id, error}.
 */
import {parentPort, workerData} from "node:worker_threads";
import type {FeatureMeta} from "../../loaders/model/dataset.ts";
import type {GbtModel} from "../../loaders/model/tree.ts";
import {createExplainer, topDrivers} from "../../loaders/model/treeshap.ts";

export interface DriversRequest {
  id: number;
  n: number;
  rows: Float32Array;
}

export type DriversReply = {id: number; index: Int32Array; contribution: Float64Array} | {id: number; error: string};

/** Top-k drivers of n explained rows, flattened (shared by the worker and the in-process fallback). */
export function driversOf(
  shap: Float64Array,
  n: number,
  names: readonly string[],
  k: number,
): {index: Int32Array; contribution: Float64Array} {
  const F = names.length;
  const position = new Map(names.map((name, j) => [name, j]));
  const index = new Int32Array(n * k).fill(-1);
  const contribution = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    topDrivers(shap.subarray(i * F, (i + 1) * F), names, k).forEach((d, r) => {
      index[i * k + r] = position.get(d.feature)!;
      contribution[i * k + r] = d.contribution;
    });
  }
  return {index, contribution};
}

if (parentPort && workerData?.gbt) {
  const port = parentPort;
  const {gbt, features, k} = workerData as {gbt: GbtModel; features: FeatureMeta[]; k: number};
  const explainer = createExplainer(gbt); // as loadModel makes it
  const names = features.map((f) => f.name);
  const F = names.length;
  port.on("message", ({id, n, rows}: DriversRequest) => {
    try {
      const columns = Array.from({length: F}, () => new Float32Array(n));
      for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) columns[j]![i] = rows[i * F + j]!;
      const {shap} = explainer.explainBatch({nRows: n, features, columns});
      const out = driversOf(shap, n, names, k);
      port.postMessage({id, ...out} satisfies DriversReply, [
        out.index.buffer as ArrayBuffer,
        out.contribution.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      port.postMessage({id, error: (e as Error).message} satisfies DriversReply);
    }
  });
  port.postMessage("ready");
}
