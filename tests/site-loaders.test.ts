/**
 * The site build's loader runner (loaders/site/run-loaders.ts): every data loader in worker
 * threads of one process, each output written where Framework caches it. Its outputs are the
 * bytes the loader writes when Framework runs it as a process of its own; console output counts
 * as output (as it does under Framework); a loader that fails is named with its error, and no
 * output of that run is left for Framework to take as fresh.
 */
import {execFile} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {promisify} from "node:util";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const exec = promisify(execFile);
const TSX = path.resolve("node_modules/.bin/tsx");
const RUNNER = path.resolve("loaders/site/run-loaders.ts");
let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "saasguard-loaders-"));
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

/** A source folder holding these loaders in data/. */
function srcWith(name: string, loaders: Record<string, string>): string {
  const src = path.join(root, name);
  mkdirSync(path.join(src, "data"), {recursive: true});
  // ES modules, as the project's package.json declares for src/
  writeFileSync(path.join(src, "package.json"), '{"type": "module"}');
  for (const [file, code] of Object.entries(loaders)) writeFileSync(path.join(src, "data", file), code);
  return src;
}

describe("data loader runner", () => {
  it("writes each loader's stdout to Framework's cache: strings, bytes, console.log and a write callback", async () => {
    const src = srcWith("ok", {
      "a.json.ts": `const n: number = 41; process.stdout.write(JSON.stringify({n: n + 1}) + "\\n");`,
      "b.bin.ts": `await new Promise<void>((r) => process.stdout.write(Buffer.from([0, 255, 7]), () => r()));`,
      "c.txt.ts": `console.log("hello"); console.log("world");`,
      "_lib.ts": `export const x = 1;`,
    });
    const cache = path.join(root, "ok-cache");
    const {stdout} = await exec(TSX, [RUNNER, src, cache]);
    expect(stdout).toMatch(/data\/a\.json 9 bytes/);
    expect(readFileSync(path.join(cache, "data", "a.json"), "utf8")).toBe('{"n":42}\n');
    expect([...readFileSync(path.join(cache, "data", "b.bin"))]).toEqual([0, 255, 7]);
    expect(readFileSync(path.join(cache, "data", "c.txt"), "utf8")).toBe("hello\nworld\n");
    expect(existsSync(path.join(cache, "data", "_lib"))).toBe(false);
  }, 60_000);

  it("a loader that fails is named with its error, and no output of the run is left in the cache", async () => {
    const src = srcWith("bad", {
      "good.json.ts": `process.stdout.write("{}");`,
      "broken.json.ts": `throw new Error("the warehouse has no marts.mart_x");`,
      "later.json.ts": `process.stdout.write("[]");`,
    });
    const cache = path.join(root, "bad-cache");
    const failure = await exec(TSX, [RUNNER, src, cache]).then(
      () => null,
      (e: {code: number; stderr: string}) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/data\/broken\.json\.ts: Error: the warehouse has no marts\.mart_x/);
    expect(existsSync(path.join(cache, "data", "good.json"))).toBe(false);
    expect(existsSync(path.join(cache, "data", "later.json"))).toBe(false);
  }, 60_000);

  it("gives the site's own loaders the bytes they write when run alone, as Framework runs them", async () => {
    const warehouse = await ensureTestWarehouse();
    const cache = path.join(root, "site-cache");
    const env = {...process.env, SAASGUARD_WAREHOUSE: warehouse};
    await exec(TSX, [RUNNER, path.resolve("src"), cache], {env, maxBuffer: 1 << 26});
    for (const file of ["risk_scores.arrow", "segments.json", "churn_model.onnx", "cohort_retention.arrow"]) {
      const alone = await exec(TSX, [path.resolve("src/data", `${file}.ts`)], {
        env,
        encoding: "buffer",
        maxBuffer: 1 << 26,
      });
      expect(readFileSync(path.join(cache, "data", file)).equals(alone.stdout), file).toBe(true);
    }
  }, 300_000);
});
