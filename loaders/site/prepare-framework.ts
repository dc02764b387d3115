/**
 * Makes Observable Framework 1.13.4 build with NO network, without touching node_modules.
 *
 * Framework downloads every `npm:` import (Plot, d3, htl, the DuckDB client behind `sql`, …)
 * from a public CDN at build time and looks library versions up in the public registry. It
 * skips both when the files already sit in its cache, so this step fills that cache from the
 * packages installed in node_modules:
 *
 * - `src/.observablehq/cache/_npm/<name>@<version>/_esm.js` — what Framework would fetch for
 *   `npm:<name>` (jsDelivr's `+esm` bundle). We bundle the installed package with esbuild.
 *   Bundles import each other through relative paths (Plot → `../../d3@7.9.2/_esm.js`), exactly
 *   like Framework rewrites jsDelivr's `/npm/d3@7/+esm`, so d3 is shared rather than duplicated.
 * - other files Framework asks for by path (duckdb-wasm's `.wasm` and worker files,
 *   parquet-wasm's `.wasm`) are copied to `_npm/<name>@<version>/<path>`.
 * - an (empty) `_npm/<name>@<version>/` folder for every other library Framework knows of.
 *   Framework resolves an unversioned `npm:<name>` to the newest version folder in the cache and
 *   only asks the registry when there is none — and its client bundle mentions all of its
 *   "recommended libraries" (lodash, echarts, leaflet, …), so without these folders every build
 *   asks the registry. A page that really uses one of them fails with
 *   "unable to fetch: https://cdn.jsdelivr.net/npm/<name>@…": install the package and add it to
 *   BUNDLES below.
 *
 * Versions always come from the installed packages' package.json. The cache is git-ignored;
 * this step is idempotent and takes a few milliseconds when everything is already in place
 * (a stamp file records what was prepared).
 *
 * Run: `tsx loaders/site/prepare-framework.ts` (also run by `npm run dev` and by buildSite()).
 */
import {isMainModule} from "../cli/command.ts";
import {createHash} from "node:crypto";
import {existsSync, realpathSync} from "node:fs";
import {copyFile, mkdir, readFile, readdir, rename, rm, writeFile} from "node:fs/promises";
import path from "node:path";
import {fileURLToPath} from "node:url";
import * as esbuild from "esbuild";
import {applyPatches, type SourcePatch} from "./framework-client-patches.ts";
import {keepGlueExports} from "./wasm-exports.ts";

/** The project root (this file lives in `<root>/loaders/site/`). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** One library Framework would download, built from node_modules instead. */
interface Bundle {
  /** npm package name, as in `npm:<name>` */
  name: string;
  /** module bundled into `_esm.js` (a bare specifier resolved with browser conditions) */
  entry: string;
  /** files copied verbatim: path inside the package → same path inside the cache folder */
  copy?: readonly string[];
}

/** What the site uses: Plot, d3, htl, Inputs' deps, the DuckDB client, Parquet decoding, CSV, ONNX. */
const BUNDLES: readonly Bundle[] = [
  {name: "d3", entry: "d3"},
  {name: "htl", entry: "htl"},
  {name: "isoformat", entry: "isoformat"},
  {name: "d3-dsv", entry: "d3-dsv"},
  {name: "@observablehq/plot", entry: "@observablehq/plot"},
  {name: "apache-arrow", entry: "apache-arrow"},
  {name: "parquet-wasm", entry: "parquet-wasm/esm", copy: ["esm/parquet_wasm_bg.wasm"]},
  // the Customer 360 what-if panel scores the churn model in the browser (wasm backend only;
  // the glue code is inside the bundle, the .wasm is loaded from the site: see components/whatif.ts)
  {name: "onnxruntime-web", entry: "onnxruntime-web/wasm", copy: ["dist/ort-wasm-simd-threaded.wasm"]},
  {
    name: "@duckdb/duckdb-wasm",
    entry: "@duckdb/duckdb-wasm",
    copy: [
      "dist/duckdb-mvp.wasm",
      "dist/duckdb-eh.wasm",
      "dist/duckdb-browser-mvp.worker.js",
      "dist/duckdb-browser-eh.worker.js",
    ],
  },
];

/**
 * duckdb-wasm's worker glue, patched in the copies in Framework's cache (node_modules stays
 * untouched); its modules are trimmed there too (DUCKDB_TRIMMED_MODULES below).
 *
 * duckdb-wasm is an Emscripten MAIN_MODULE (dynamically linked, for extensions), and its start-up
 * glue walks all of the module's 88,220 exports several times in JavaScript
 * (emscripten-core/emscripten#9791) — on a warm visit that was longer than DuckDB's own start.
 * Each patch below keeps the glue's meaning: the first three drop one walk or copy each, the last
 * two hand the fetched module straight to the streaming compiler. SaaSGuard never loads
 * extensions (no network), the e2e tests run a battery of SQL through both patched workers and
 * compare it with native DuckDB, and a duckdb-wasm whose glue differs fails the build here
 * instead of shipping half-patched.
 */
export const DUCKDB_WORKER_PATCHES: readonly SourcePatch[] = [
  {
    // Emscripten's GOT proxy already creates an entry for every symbol a module imports, and
    // reportUndefinedSymbols fills any still unset from the symbol table: creating a
    // WebAssembly.Global and a table slot for each export is not needed. Skipping exports that
    // have no entry (before the per-symbol isInternalSym check) leaves those entries as they were.
    why: "updateGOT: update the GOT entries that exist instead of creating one per export",
    from: 'updateGOT=(e,t)=>{for(var r in e)if(!isInternalSym(r)){var n=e[r];r.startsWith("orig$")&&(r=r.split("$")[1],t=!0),GOT[r]||(GOT[r]=new WebAssembly.Global({value:"i32",mutable:!0})),(t||GOT[r].value==0)&&',
    to: 'updateGOT=(e,t)=>{for(var r in e)if((GOT[r]||r.startsWith("orig$"))&&!isInternalSym(r)){var n=e[r];r.startsWith("orig$")&&(r=r.split("$")[1],t=!0),GOT[r]&&(t||GOT[r].value==0)&&',
  },
  {
    // mergeLibSymbols copies every export the JavaScript imports do not define into wasmImports
    // (88,220 property insertions). Making the exports wasmImports' prototype gives every lookup
    // (`wasmImports[name]`, `name in wasmImports`) the same answer; only the two stubs
    // wasmImports holds are replaced by the exports, as mergeLibSymbols would. Nothing
    // enumerates wasmImports. The dynCall_ registration is kept.
    why: "main module's symbols: the exports become wasmImports' prototype instead of being copied in",
    from: 'mergeLibSymbols(wasmExports,"main")',
    to: '((e)=>{for(var k in e)k.startsWith("dynCall_")&&!Module.hasOwnProperty(k)&&(Module[k]=e[k]);for(var k of Object.keys(wasmImports))!isSymbolDefined(k)&&k in e&&(wasmImports[k]=e[k]);Object.setPrototypeOf(wasmImports,e)})(wasmExports)',
  },
  {
    // the copy only exists so a few exports can be wrapped without touching the original;
    // an object inheriting from it serves the same reads (nothing enumerates wasmExports)
    why: "applySignatureConversions: wrap on an object inheriting the exports instead of copying all of them",
    from: "function applySignatureConversions(e){e=Object.assign({},e);",
    to: "function applySignatureConversions(e){e=Object.create(e);",
  },
  {
    // the glue pipes the module through a JavaScript TransformStream only to post download
    // progress that no page shows: stream the response to the compiler as fetched instead (the
    // glue's own fallback branch, without its console warning)
    why: "instantiateStreaming: compile the fetched response as it is, not through a progress TransformStream",
    from: 'if(WebAssembly.instantiateStreaming)if(typeof TransformStream=="function")',
    to: "if(WebAssembly.instantiateStreaming)if(!1)",
  },
  {
    why: "instantiateStreaming: no console warning for the progress that is not reported",
    from: 'console.warn("instantiating without progress handler since transform streams are unavailable");',
    to: "",
  },
];

/** The worker scripts DUCKDB_WORKER_PATCHES apply to (paths inside the package). */
export const DUCKDB_PATCHED_WORKERS: readonly string[] = [
  "dist/duckdb-browser-mvp.worker.js",
  "dist/duckdb-browser-eh.worker.js",
];

/** `source` (one of DUCKDB_PATCHED_WORKERS) with every patch applied; throws unless each applies exactly once. */
export function patchDuckDBWorker(source: string, file: string): string {
  return applyPatches(source, DUCKDB_WORKER_PATCHES, file, "DUCKDB_WORKER_PATCHES for this duckdb-wasm version");
}

/**
 * duckdb-wasm's modules, each trimmed to the exports of the worker glue that loads it
 * (wasm-exports.ts: 9.9 MB of export names and 88,220 export objects a warm visit paid for).
 */
export const DUCKDB_TRIMMED_MODULES: Readonly<Record<string, string>> = {
  "dist/duckdb-mvp.wasm": "dist/duckdb-browser-mvp.worker.js",
  "dist/duckdb-eh.wasm": "dist/duckdb-browser-eh.worker.js",
};

/** `file` of duckdb-wasm (a path inside the package) as the site serves it: glue patched, modules trimmed. */
async function duckdbFile(packageDir: string, file: string): Promise<string | Uint8Array> {
  const glue = async (f: string) => {
    const at = path.join(packageDir, f);
    return patchDuckDBWorker(await readFile(at, "utf-8"), at);
  };
  if (DUCKDB_PATCHED_WORKERS.includes(file)) return glue(file);
  const worker = DUCKDB_TRIMMED_MODULES[file];
  if (!worker) return readFile(path.join(packageDir, file));
  const from = path.join(packageDir, file);
  const {wasm} = keepGlueExports(await readFile(from), await glue(worker), from);
  if (!WebAssembly.validate(wasm)) throw new Error(`prepare-framework: ${from} no longer validates once trimmed`);
  return wasm;
}

/** Framework's recommended libraries and implicit imports, besides whatever its client code names. */
const KNOWN_LIBRARIES = [
  "@observablehq/sample-datasets",
  "@uwdata/vgplot",
  "@viz-js/viz",
  "apache-arrow",
  "arquero",
  "d3",
  "d3-dsv",
  "echarts",
  "exceljs",
  "htl",
  "isoformat",
  "jszip",
  "katex",
  "leaflet",
  "lodash",
  "mapbox-gl",
  "mermaid",
  "parquet-wasm",
  "react",
  "react-dom",
  "sql.js",
  "topojson-client",
  "vega",
  "vega-lite",
  "vega-lite-api",
];

/** Version-folder name used for a library Framework knows of that is not installed. */
export const NOT_INSTALLED_VERSION = "0.0.0-not-installed";

export interface PrepareOptions {
  /** project root holding node_modules/ and src/ (default: this repository) */
  projectRoot?: string;
  /** Framework source root relative to projectRoot (default "src") */
  srcRoot?: string;
  /** rebuild even when the stamp says everything is in place */
  force?: boolean;
  log?: (line: string) => void;
}

export interface PrepareResult {
  /** absolute path of `<src>/.observablehq/cache/_npm` */
  npmCacheDir: string;
  /** installed versions of the bundled libraries */
  versions: Record<string, string>;
  /** false when the stamp matched and nothing had to be done */
  rebuilt: boolean;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, "utf-8")) as Record<string, unknown>;
}

/** Installed version of a top-level package, or undefined when it is not installed. */
async function installedVersion(projectRoot: string, name: string): Promise<string | undefined> {
  const file = path.join(projectRoot, "node_modules", name, "package.json");
  if (!existsSync(file)) return undefined;
  const version = (await readJson(file)).version;
  if (typeof version !== "string") throw new Error(`${file}: no "version" field`);
  return version;
}

/** The duckdb-wasm version Framework pins (it always asks for exactly this one). */
async function frameworkDuckDBWasmVersion(projectRoot: string): Promise<string> {
  const file = path.join(projectRoot, "node_modules/@observablehq/framework/dist/duckdb.js");
  const match = /DUCKDB_WASM_VERSION\s*=\s*"([^"]+)"/.exec(await readFile(file, "utf-8"));
  if (!match) throw new Error(`${file}: cannot find DUCKDB_WASM_VERSION`);
  return match[1]!;
}

/** Every `npm:<name>` Framework's client code and implicit-import tables mention. */
async function frameworkLibraryNames(projectRoot: string): Promise<string[]> {
  const dist = path.join(projectRoot, "node_modules/@observablehq/framework/dist");
  const files = [path.join(dist, "libraries.js")];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.name.endsWith(".js")) files.push(p);
    }
  };
  await walk(path.join(dist, "client"));
  const names = new Set(KNOWN_LIBRARIES);
  const builtins = new Set([
    "@observablehq/runtime",
    "@observablehq/stdlib",
    "@observablehq/dot",
    "@observablehq/duckdb",
    "@observablehq/inputs",
    "@observablehq/mermaid",
    "@observablehq/tex",
    "@observablehq/sqlite",
  ]);
  for (const file of files) {
    const text = await readFile(file, "utf-8");
    for (const m of text.matchAll(/["'`]npm:((?:@[\w.-]+\/)?[\w.-]+)/g)) if (!builtins.has(m[1]!)) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Top-level package directory a bare import from `importer` resolves to (walking node_modules up). */
function packageDirFor(name: string, importer: string): string | undefined {
  let dir = path.dirname(importer);
  for (;;) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return realpathSync(candidate);
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Cache path (as Framework serves it) of the `_esm.js` of a bundled library. */
function esmPath(name: string, version: string): string {
  return `/_npm/${name}@${version}/_esm.js`;
}

async function bundleOne(
  projectRoot: string,
  bundle: Bundle,
  version: string,
  shared: Map<string, {dir: string; version: string}>,
  outFile: string,
): Promise<void> {
  const self = esmPath(bundle.name, version);
  const externals: esbuild.Plugin = {
    name: "saasguard-shared-npm",
    setup(build) {
      const names = [...shared.keys()].filter((n) => n !== bundle.name);
      if (names.length === 0) return;
      const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
      build.onResolve({filter}, (args) => {
        const target = shared.get(args.path)!;
        // only share when the importer would get the very same installed copy (duckdb-wasm, for
        // example, has its own nested apache-arrow@17, which must stay inside its bundle)
        if (packageDirFor(args.path, args.importer) !== target.dir) return undefined;
        const rel = path.posix.relative(path.posix.dirname(self), esmPath(args.path, target.version));
        return {path: rel.startsWith(".") ? rel : `./${rel}`, external: true};
      });
    },
  };
  const tmp = `${outFile}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [bundle.entry],
    absWorkingDir: projectRoot,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "none",
    logLevel: "silent",
    outfile: tmp,
    plugins: [externals],
    define: {"process.env.NODE_ENV": '"production"'},
  });
  await rename(tmp, outFile);
}

/** Prepares Framework's npm cache (see the module comment). Safe to call on every build. */
export async function prepareFramework(options: PrepareOptions = {}): Promise<PrepareResult> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const log = options.log ?? ((line: string) => console.log(line));
  const npmCacheDir = path.join(projectRoot, options.srcRoot ?? "src", ".observablehq", "cache", "_npm");
  const stampFile = path.join(npmCacheDir, "..", "saasguard-prepared.json");

  const versions: Record<string, string> = {};
  for (const b of BUNDLES) {
    const v = await installedVersion(projectRoot, b.name);
    if (!v)
      throw new Error(`prepare-framework: ${b.name} is not installed in ${projectRoot}/node_modules (run npm ci)`);
    versions[b.name] = v;
  }
  const pinned = await frameworkDuckDBWasmVersion(projectRoot);
  if (versions["@duckdb/duckdb-wasm"] !== pinned)
    throw new Error(
      `prepare-framework: Framework asks for @duckdb/duckdb-wasm@${pinned} but ${versions["@duckdb/duckdb-wasm"]} is installed; ` +
        `install exactly ${pinned} (npm install --save-exact @duckdb/duckdb-wasm@${pinned})`,
    );
  const libraryNames = await frameworkLibraryNames(projectRoot);
  const placeholders: Record<string, string> = {};
  for (const name of libraryNames) {
    if (name in versions) continue;
    placeholders[name] = (await installedVersion(projectRoot, name)) ?? NOT_INSTALLED_VERSION;
  }

  const expectedFiles = BUNDLES.flatMap((b) => [
    path.join(npmCacheDir, `${b.name}@${versions[b.name]}`, "_esm.js"),
    ...(b.copy ?? []).map((c) => path.join(npmCacheDir, `${b.name}@${versions[b.name]}`, c)),
  ]);
  const thisFile = fileURLToPath(import.meta.url);
  const stamp = createHash("sha256")
    .update(JSON.stringify({versions, placeholders, bundles: BUNDLES}))
    .update(await readFile(thisFile))
    .update(await readFile(fileURLToPath(new URL("./wasm-exports.ts", import.meta.url))))
    .update(await readFile(fileURLToPath(new URL("./framework-client-patches.ts", import.meta.url))))
    .digest("hex");

  const stampOk = existsSync(stampFile) && (await readFile(stampFile, "utf-8")).includes(stamp);
  if (
    !options.force &&
    stampOk &&
    expectedFiles.every((f) => existsSync(f)) &&
    Object.entries(placeholders).every(([n, v]) => existsSync(path.join(npmCacheDir, `${n}@${v}`)))
  ) {
    return {npmCacheDir, versions, rebuilt: false};
  }

  const started = performance.now();
  await mkdir(npmCacheDir, {recursive: true});
  // drop version folders of our libraries that no longer match the installed version, so Framework
  // (which picks the newest folder) cannot pick a stale or empty one
  for (const name of [...Object.keys(versions), ...Object.keys(placeholders)]) {
    const parent = path.join(npmCacheDir, path.dirname(name));
    if (!existsSync(parent)) continue;
    const base = path.basename(name);
    const wanted = `${base}@${versions[name] ?? placeholders[name]}`;
    for (const entry of await readdir(parent)) {
      if (entry.startsWith(`${base}@`) && entry !== wanted)
        await rm(path.join(parent, entry), {recursive: true, force: true});
    }
  }

  const shared = new Map<string, {dir: string; version: string}>();
  for (const b of BUNDLES)
    shared.set(b.name, {dir: realpathSync(path.join(projectRoot, "node_modules", b.name)), version: versions[b.name]!});

  await Promise.all(
    BUNDLES.map(async (b) => {
      const dir = path.join(npmCacheDir, `${b.name}@${versions[b.name]}`);
      await mkdir(dir, {recursive: true});
      await bundleOne(projectRoot, b, versions[b.name]!, shared, path.join(dir, "_esm.js"));
      for (const file of b.copy ?? []) {
        const to = path.join(dir, file);
        await mkdir(path.dirname(to), {recursive: true});
        const packageDir = path.join(projectRoot, "node_modules", b.name);
        if (b.name === "@duckdb/duckdb-wasm")
          await writeFile(`${to}.${process.pid}.tmp`, await duckdbFile(packageDir, file));
        else await copyFile(path.join(packageDir, file), `${to}.${process.pid}.tmp`);
        await rename(`${to}.${process.pid}.tmp`, to);
      }
    }),
  );
  for (const [name, version] of Object.entries(placeholders))
    await mkdir(path.join(npmCacheDir, `${name}@${version}`), {recursive: true});

  await writeFile(stampFile, JSON.stringify({stamp, versions, placeholders}, null, 2) + "\n");
  log(
    `prepare-framework: bundled ${BUNDLES.length} libraries into ${path.relative(projectRoot, npmCacheDir)} ` +
      `(${Object.keys(placeholders).length} placeholder folders) in ${Math.round(performance.now() - started)} ms`,
  );
  return {npmCacheDir, versions, rebuilt: true};
}

if (isMainModule(import.meta.url)) {
  prepareFramework({force: process.argv.includes("--force")}).then(
    (r) => {
      if (!r.rebuilt) console.log("prepare-framework: Framework cache already prepared");
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
