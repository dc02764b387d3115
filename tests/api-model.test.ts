/**
 * Predictions' TreeSHAP drivers are computed in a worker thread: they must equal the in-process
 * computation exactly, and a worker that dies mid-flight must not fail a request (its batches
 * are explained on the event loop instead).
 */
import {dirname, join} from "node:path";
import type {Worker} from "node:worker_threads";
import {afterAll, beforeAll, expect, it} from "vitest";
import {loadModel} from "../loaders/model/registry.ts";
import {ServedModel, type FeatureValue} from "../server/api/served-model.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let modelsDir = "";
let rows: Record<string, FeatureValue>[] = [];
let inProcess: ServedModel;
let withWorker: ServedModel;

beforeAll(async () => {
  const warehousePath = await ensureTestWarehouse();
  modelsDir = join(dirname(warehousePath), "models");
  rows = (await sampleFeatureRows(warehousePath, modelsDir, 200)).map((r) => r.features);
  inProcess = new ServedModel(await loadModel(modelsDir), "in-process"); // never started: no worker
  withWorker = new ServedModel(await loadModel(modelsDir), "worker");
  await withWorker.start();
});

afterAll(async () => {
  await inProcess?.release();
  await withWorker?.release();
});

const workerOf = (m: ServedModel) => (m as unknown as {drivers: {worker: Worker | null}}).drivers.worker;

it("the worker's drivers equal the in-process ones, row by row, in concurrent batches", async () => {
  expect(workerOf(withWorker)).not.toBeNull();
  const [a, b] = await Promise.all([
    Promise.all(rows.map((r) => withWorker.predict(r))),
    Promise.all(rows.map((r) => inProcess.predict(r))),
  ]);
  expect(a).toEqual(b);
  expect(a.every((p) => p.top_drivers.length > 0)).toBe(true);
});

it("a worker that dies mid-flight fails no request", async () => {
  const expected = await Promise.all(rows.map((r) => inProcess.predict(r)));
  const inflight = Promise.all(rows.map((r) => withWorker.predict(r)));
  await workerOf(withWorker)!.terminate();
  expect(await inflight).toEqual(expected);
  expect(workerOf(withWorker)).toBeNull();
  expect(await withWorker.predict(rows[0]!)).toEqual(expected[0]);
});
