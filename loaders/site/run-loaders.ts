/**
 * The site's data loaders (src/data/*.<ext>.ts), run for `observable build` in one process:
 * each in a worker thread of its own, two at a time, its stdout written where Framework caches a
 * loader's output (src/.observablehq/cache/data/<name>.<ext>). Framework then finds every output
 * fresh — newer than its loader, which is how its cache decides — and runs no loader itself.
 *
 * Why: Framework runs each loader as a new process, one after another, and every process starts
 * tsx and DuckDB again: on a 2-core machine the 23 loaders took ~25–50 s of the site step, most of
 * it start-up. The loaders are unchanged (`npm run dev` still runs them Framework's way); a worker
 * runs the same file with the same environment, and a loader that fails fails the build with its
 * name and its error, as under Framework.
 *
 * Run by loaders/site/build-site.ts as its own process (`tsx loaders/site/run-loaders.ts <src> <cache>`),
 * so each build starts with fresh module state.
 */
import {mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {cpus} from "node:os";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {Worker} from "node:worker_threads";
import {isMainModule, runCommand, UsageError} from "../cli/command.ts";

/** A loader's file and the output it writes (`c360.tar.ts` → `c360.tar`). */
export interface LoaderFile {
  file: string;
  /** the output's path under the source root (`data/c360.tar`) */
  target: string;
}

/** The data loaders of `src/data` (TypeScript, `<name>.<ext>.ts`), in name order. */
export function dataLoaders(srcRoot: string): LoaderFile[] {
  const dir = path.join(srcRoot, "data");
  return readdirSync(dir)
    .filter((f) => /^[^_.][^/]*\.[a-z0-9]+\.ts$/.test(f))
    .sort()
    .map((f) => ({file: path.join(dir, f), target: `data/${f.slice(0, -".ts".length)}`}));
}

export interface LoaderRun {
  target: string;
  ms: number;
  bytes: number;
}

/**
 * What a worker runs: tsx's hooks registered in the worker's own module loader (hooks do not
 * cross threads), then the loaders it is handed, one at a time. A loader writes its output to
 * stdout from its top-level code; while it runs, the worker's process.stdout.write collects the
 * bytes instead (console.log included, as a loader process's stdout would), and the output goes
 * back to the main thread whole. Modules a loader imports (DuckDB, Arrow, Parquet) load once per
 * worker, not once per loader.
 */
const WORKER = `
const {parentPort, workerData} = require("node:worker_threads");
const ready = import(workerData.tsx).then(({register}) => register());
parentPort.on("message", async ({loader}) => {
  const chunks = [];
  const write = process.stdout.write;
  process.stdout.write = (chunk, encoding, callback) => {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : Buffer.from(chunk));
    const cb = typeof encoding === "function" ? encoding : callback;
    if (cb) process.nextTick(cb);
    return true;
  };
  try {
    await ready;
    await import(loader);
    // an array of its own, not Buffer.concat's: a small Buffer lives in Node's shared pool, which
    // cannot be transferred (Node 22+ throws DataCloneError; 20 copied it silently)
    const output = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) { output.set(c, at); at += c.length; }
    parentPort.postMessage({output}, [output.buffer]);
  } catch (e) {
    parentPort.postMessage({error: e && e.stack ? e.stack : String(e)});
  } finally {
    process.stdout.write = write;
  }
});`;
const TSX_API = import.meta.resolve("tsx/esm/api");

/**
 * Runs every loader of `srcRoot/data` in `concurrency` worker threads into `cacheRoot/<target>`.
 * Rejects naming the loaders that failed (no output of the run is left in the cache then).
 */
export async function runLoaders(
  srcRoot: string,
  cacheRoot: string,
  concurrency = Math.max(1, Math.min(2, cpus().length)),
): Promise<LoaderRun[]> {
  const queue = dataLoaders(srcRoot);
  const done: LoaderRun[] = [];
  const failed: string[] = [];
  const work = async (): Promise<void> => {
    const worker = new Worker(WORKER, {eval: true, workerData: {tsx: TSX_API}});
    let crashed: Error | null = null;
    const crash = new Promise<never>((_, reject) => {
      worker.on("error", (e) => reject((crashed = e)));
      worker.on("exit", (code) => reject((crashed ??= new Error(`the loader worker exited (${code})`))));
    });
    crash.catch(() => {});
    try {
      for (let l = queue.shift(); l; l = queue.shift()) {
        const t0 = performance.now();
        const reply = new Promise<{output?: Uint8Array; error?: string}>((resolve) => worker.once("message", resolve));
        worker.postMessage({loader: pathToFileURL(l.file).href});
        let r: {output?: Uint8Array; error?: string};
        try {
          r = await Promise.race([reply, crash]);
        } catch (e) {
          failed.push(`${path.relative(srcRoot, l.file)}: ${(e as Error).stack ?? (e as Error).message}`);
          return;
        }
        if (r.error !== undefined) {
          failed.push(`${path.relative(srcRoot, l.file)}: ${r.error}`);
          continue;
        }
        const dest = path.join(cacheRoot, l.target);
        mkdirSync(path.dirname(dest), {recursive: true});
        // written whole, then renamed: Framework never sees half an output
        writeFileSync(`${dest}.${process.pid}`, r.output!);
        renameSync(`${dest}.${process.pid}`, dest);
        done.push({target: l.target, ms: performance.now() - t0, bytes: r.output!.length});
      }
    } finally {
      if (!crashed) await worker.terminate();
    }
  };
  await Promise.all(Array.from({length: concurrency}, work));
  if (failed.length) {
    // no output of a failed run is left for Framework to mistake for fresh
    for (const r of done) rmSync(path.join(cacheRoot, r.target), {force: true});
    throw new Error(`data loader(s) failed:\n${failed.join("\n")}`);
  }
  return done.sort((a, b) => a.target.localeCompare(b.target));
}

if (isMainModule(import.meta.url))
  await runCommand(
    {name: "run-loaders", usage: "usage: tsx loaders/site/run-loaders.ts <src> <src/.observablehq/cache>"},
    async () => {
      const [srcRoot, cacheRoot] = process.argv.slice(2);
      if (!srcRoot || !cacheRoot) throw new UsageError("give the source root and Framework's cache folder");
      for (const r of await runLoaders(srcRoot, cacheRoot))
        console.log(`${r.target} ${r.bytes} bytes in ${Math.round(r.ms)} ms`);
    },
  );
