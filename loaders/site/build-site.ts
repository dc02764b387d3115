/**
 * The site build step: warehouse → dist/, with no network and no half-built output.
 *
 * 1. prepares Framework's npm cache from node_modules (prepare-framework.ts);
 * 2. clears Framework's data-loader cache (`src/.observablehq/cache/data`), because Framework
 *    reuses a loader's output while it is newer than the loader file — but the warehouse changed;
 * 3. runs every data loader in one process (run-loaders.ts: worker threads, two at a time) into
 *    that cache, then `observable build` — which finds their outputs fresh — into a temporary
 *    sibling of `outDir`, with the warehouse in SAASGUARD_WAREHOUSE, telemetry off and
 *    node_modules/.bin on PATH (a loader the runner did not write, Framework runs with tsx);
 * 4. patches Framework's DuckDB client in the output (framework-client-patches.ts);
 * 5. writes `.br` and `.gz` siblings of compressible files (the server — and most static hosts —
 *    send them as-is; duckdb-wasm's 26 MB .wasm becomes 4.6 MB brotli / 6.0 MB gzip). Brotli
 *    is not just smaller: Chromium's in-memory HTTP cache (incognito) caps one entry's size and
 *    kept the brotli wasm between page views but not the gzip one (see server/site.ts).
 *    Compressed outputs are cached by content hash, so unchanged wasm files are not recompressed
 *    on every build;
 * 6. swaps the new site in place of `outDir` only when everything above succeeded.
 *
 * CLI: `tsx loaders/site/build-site.ts [--warehouse data/warehouse.duckdb] [--out dist]`
 */
import {removeStaleTemps, tempPathFor} from "../temp-files.ts";
import {apiOriginsFrom, apiUrlFrom} from "./site-settings.ts";
import {isMainModule} from "../cli/command.ts";
import {spawn} from "node:child_process";
import {createHash} from "node:crypto";
import {createReadStream, createWriteStream, existsSync} from "node:fs";
import {copyFile, mkdir, readdir, rename, rm, stat} from "node:fs/promises";
import path from "node:path";
import {pipeline} from "node:stream/promises";
import {constants as zlibConstants, createBrotliCompress, createGzip} from "node:zlib";
import {patchFrameworkClient} from "./framework-client-patches.ts";
import {PROJECT_ROOT, prepareFramework} from "./prepare-framework.ts";

export interface BuildSiteOptions {
  /** DuckDB warehouse the loaders read (opened read-only) */
  warehouse: string;
  /** where the finished site ends up (replaced atomically) */
  outDir: string;
  /** repository root (default: this repository) */
  projectRoot?: string;
  /** skip writing .br/.gz siblings */
  precompress?: boolean;
  /** API origins the pages may call (default: SITE_API_ORIGINS, else the API of `npm start`) */
  apiOrigins?: readonly string[];
  log?: (line: string) => void;
}

export interface BuildSiteResult {
  outDir: string;
  /** built HTML pages, relative to outDir */
  pages: string[];
  durationMs: number;
  /** Framework's build output (stdout + stderr) */
  output: string;
}

/** Extensions worth precompressing (Parquet is already zstd-compressed; `.arrows` is raw Arrow IPC). */
const PRECOMPRESS = new Set([
  ".html",
  ".js",
  ".css",
  ".json",
  ".wasm",
  ".svg",
  ".csv",
  ".tsv",
  ".txt",
  ".map",
  ".arrow",
  ".arrows",
]);
const PRECOMPRESS_MIN_BYTES = 1024;

/**
 * The precompressed siblings written for each file. Brotli's best quality (11) takes minutes on
 * the 36–40 MB duckdb-wasm files, so large files get quality 9 with a 16 MB window (5.3 MB for
 * duckdb-eh.wasm, vs 4.6 MB at quality 11, 7.1 MB gzip); the cache key holds the quality.
 * The data files (`_file/`) change with every build, so the cache never holds them: they get
 * quality 5 — a 91 KB Customer 360 file is 16.4 KB in 6 ms against 13.9 KB in 124 ms at 11, and
 * at 11 the 65 dossier files and the exports took ~9 s of a 5,000-customer nightly refresh.
 */
const ENCODINGS = [
  {suffix: ".gz", key: () => "gz", create: () => createGzip({level: 9})},
  {
    suffix: ".br",
    key: (size: number, data: boolean) => `q${brotliQuality(size, data)}.br`,
    create: (size: number, data: boolean) =>
      createBrotliCompress({
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: brotliQuality(size, data),
          [zlibConstants.BROTLI_PARAM_LGWIN]: 24,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: size,
        },
      }),
  },
] as const;

function brotliQuality(size: number, data: boolean): number {
  return data ? 5 : size > 2_000_000 ? 9 : 11;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, {withFileTypes: true})) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Writes `file.br` and `file.gz` next to every compressible file ≥ 1 KB, reusing cached results. */
async function precompressDir(dir: string, cacheDir: string): Promise<number> {
  await mkdir(cacheDir, {recursive: true});
  const files = (await walk(dir)).filter((f) => PRECOMPRESS.has(path.extname(f)));
  let written = 0;
  const used = new Set<string>();
  // largest first, so the long brotli runs on the wasm files start at once and overlap the rest
  const jobs: {file: string; size: number; encoding: (typeof ENCODINGS)[number]}[] = [];
  for (const file of files) {
    const {size} = await stat(file);
    if (size >= PRECOMPRESS_MIN_BYTES) for (const encoding of ENCODINGS) jobs.push({file, size, encoding});
  }
  jobs.sort((a, b) => b.size - a.size);
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const {file, size, encoding} = job;
      const data = path.relative(dir, file).startsWith(`_file${path.sep}`);
      const cached = path.join(cacheDir, `${await sha256(file)}.${encoding.key(size, data)}`);
      used.add(path.basename(cached));
      if (!existsSync(cached)) {
        const tmp = tempPathFor(cached);
        await pipeline(createReadStream(file), encoding.create(size, data), createWriteStream(tmp));
        await rename(tmp, cached);
      }
      await copyFile(cached, `${file}${encoding.suffix}`);
      written++;
    }
  };
  await Promise.all(Array.from({length: 4}, worker));
  // keep the cache to what this build used (pages change every build; the wasm files rarely do)
  for (const entry of await readdir(cacheDir)) {
    if (/\.(gz|br)$/.test(entry) && !used.has(entry)) await rm(path.join(cacheDir, entry), {force: true});
    else if (/\.tmp-\d+$/.test(entry)) removeStaleTemps(path.join(cacheDir, entry.replace(/\.tmp-\d+$/, "")));
  }
  return written;
}

/** Runs a command, collecting its interleaved stdout/stderr; rejects with that output on failure. */
function run(command: string, args: string[], options: {cwd: string; env: NodeJS.ProcessEnv}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"]});
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(output);
      else
        reject(
          Object.assign(
            new Error(`${path.basename(command)} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output}`),
            {output},
          ),
        );
    });
  });
}

/** Builds the site from `warehouse` into `outDir` (see the module comment). */
export async function buildSite(options: BuildSiteOptions): Promise<BuildSiteResult> {
  const started = performance.now();
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const log = options.log ?? ((line: string) => console.log(line));
  const warehouse = path.resolve(options.warehouse);
  const outDir = path.resolve(projectRoot, options.outDir);
  if (!existsSync(warehouse))
    throw new Error(`buildSite: warehouse not found: ${warehouse} (run the data build first)`);

  // a bad SITE_API_ORIGINS fails here, not minutes later inside a data loader
  apiOriginsFrom(options.apiOrigins?.join(",") ?? process.env.SITE_API_ORIGINS);
  apiUrlFrom(process.env.SITE_API_URL);
  await prepareFramework({projectRoot, log});
  const cacheRoot = path.join(projectRoot, "src", ".observablehq", "cache");
  await rm(path.join(cacheRoot, "data"), {recursive: true, force: true});

  const tmpOut = tempPathFor(outDir);
  await rm(tmpOut, {recursive: true, force: true});
  removeStaleTemps(outDir);
  const bin = path.join(projectRoot, "node_modules", ".bin");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SAASGUARD_WAREHOUSE: warehouse,
    SAASGUARD_SITE_OUT: tmpOut,
    ...(options.apiOrigins ? {SITE_API_ORIGINS: options.apiOrigins.join(",")} : {}),
    OBSERVABLE_TELEMETRY_DISABLE: "true",
    NO_COLOR: "1",
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
  };
  let output: string;
  try {
    // every data loader, in one process (run-loaders.ts): Framework then finds their outputs fresh
    const t0 = performance.now();
    const loaded = await run(
      path.join(bin, "tsx"),
      [path.join(projectRoot, "loaders", "site", "run-loaders.ts"), path.join(projectRoot, "src"), cacheRoot],
      {cwd: projectRoot, env},
    );
    log(
      `build-site: ${loaded.trim().split("\n").length} data loaders in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const t1 = performance.now();
    output = await run(path.join(bin, "observable"), ["build"], {cwd: projectRoot, env});
    log(`build-site: observable build in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    // Framework logs a failed loader but may still finish; never publish a page with missing data
    const failures = output.split("\n").filter((line) => /\berror\b.*in \d|unable to fetch|Error:/.test(line));
    if (failures.length > 0)
      throw new Error(`observable build reported errors:\n${failures.join("\n")}\n\nfull output:\n${output}`);
    if (!existsSync(path.join(tmpOut, "index.html")))
      throw new Error(`observable build wrote no index.html:\n${output}`);
    await patchFrameworkClient(tmpOut);
    if (options.precompress !== false) {
      const t2 = performance.now();
      const n = await precompressDir(tmpOut, path.join(cacheRoot, "saasguard-gzip"));
      log(`build-site: precompressed ${n} files in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
    }
  } catch (error) {
    await rm(tmpOut, {recursive: true, force: true});
    throw error;
  }

  // swap: the old site stays in place until the new one is complete
  const oldOut = `${outDir}.old-${process.pid}`;
  if (existsSync(outDir)) await rename(outDir, oldOut);
  await rename(tmpOut, outDir);
  await rm(oldOut, {recursive: true, force: true});

  const pages = (await walk(outDir))
    .filter((f) => f.endsWith(".html"))
    .map((f) => path.relative(outDir, f).split(path.sep).join("/"))
    .sort();
  const durationMs = Math.round(performance.now() - started);
  const shown = outDir.startsWith(projectRoot + path.sep) ? path.relative(projectRoot, outDir) : outDir;
  log(`build-site: ${pages.length} page(s) → ${shown} in ${(durationMs / 1000).toFixed(1)} s`);
  return {outDir, pages, durationMs, output};
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (isMainModule(import.meta.url)) {
  buildSite({
    warehouse: argValue("--warehouse") ?? process.env.SAASGUARD_WAREHOUSE ?? "data/warehouse.duckdb",
    outDir: argValue("--out") ?? process.env.SAASGUARD_SITE_OUT ?? "dist",
  }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
