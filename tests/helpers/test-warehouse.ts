/**
 * The warehouse the site and model tests read: a real build (synthetic data → validated raw
 * tables → marts → model scores) of a small portfolio, made once and cached in the OS temp
 * folder under a key derived from the code and model that produce it, so an edit to the
 * pipeline rebuilds it.
 */
import {createHash} from "node:crypto";
import {cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {build} from "../../loaders/build.ts";

export const TEST_WAREHOUSE_AS_OF = "2026-06-30";
export const TEST_CUSTOMERS = 600;

function hashTree(h: ReturnType<typeof createHash>, p: string): void {
  if (!existsSync(p)) return;
  if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) hashTree(h, path.join(p, e));
  else h.update(p).update(readFileSync(p));
}

/** Path of a built warehouse (marts, model scores, build_info) for tests. */
export async function ensureTestWarehouse(): Promise<string> {
  const h = createHash("sha256");
  for (const p of ["loaders", "models", "src/rules"]) hashTree(h, p);
  const dir = path.join(os.tmpdir(), `saasguard-test-warehouse-${h.digest("hex").slice(0, 12)}`);
  const file = path.join(dir, "warehouse.duckdb");
  if (existsSync(file)) return file;
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, {recursive: true, force: true});
  mkdirSync(work, {recursive: true});
  // a copy of the shipped model, so a test build never writes into the repository's models/
  if (existsSync("models")) cpSync("models", path.join(work, "models"), {recursive: true});
  await build({
    asOf: TEST_WAREHOUSE_AS_OF,
    customers: TEST_CUSTOMERS,
    seed: 5,
    source: "synthetic",
    warehousePath: path.join(work, "warehouse.duckdb"),
    modelsDir: path.join(work, "models"),
    site: false,
    log: () => {},
  });
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, {recursive: true, force: true}); // another test file built it first
  }
  return file;
}
