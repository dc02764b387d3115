/**
 * Two changes to Framework's DuckDB client (the module behind `sql:` front matter and ```sql
 * blocks), applied to the built site's copy (`_observablehq/stdlib/duckdb.<hash>.js`) after
 * `observable build`; node_modules stays untouched and `npm run dev` serves Framework's original.
 *
 * On a page whose front matter names a table, Framework 1.13.4 starts DuckDB-WASM, and only once
 * it is instantiated does it fetch the table's file, one after the other. It also starts the
 * worker from a blob: URL it fetched first, so the worker's 0.76 MB script is parsed from scratch
 * on every visit. Both are on the critical path of every report:
 * - the table's `.arrow` file starts downloading when the page registers it, while DuckDB starts;
 * - the worker starts from its URL when it is on the page's origin (as on every SaaSGuard site),
 *   so the browser can reuse its compiled script; a worker on another origin still goes through
 *   Framework's blob: URL, which is why Framework does it.
 *
 * The file keeps its name although its bytes change: the patched and the original module behave
 * the same apart from when they fetch, so a browser holding either copy under that name draws the
 * same page. A Framework whose client differs fails the build here, naming the patch, instead of
 * shipping half-patched.
 */
import {readFile, readdir, writeFile} from "node:fs/promises";
import path from "node:path";

export interface SourcePatch {
  why: string;
  from: string;
  to: string;
}

/** Patches of the minified `_observablehq/stdlib/duckdb.<hash>.js` Framework 1.13.4 builds. */
export const FRAMEWORK_DUCKDB_PATCHES: readonly SourcePatch[] = [
  {
    why: "registerTable: a file's bytes are requested when the table is registered, not once DuckDB is up",
    from: "p.push(m.then(e=>f(e._db,t,a)))",
    to: "p.push((x=>m.then(e=>f(e._db,t,x)))(saasguardEarlyFile(a)))",
  },
  {
    why: "createDuckDB: a same-origin worker starts from its URL, not from a blob: copy",
    from: "e=await l.createWorker(t)",
    to: "e=new URL(t,location.href).origin===location.origin?new Worker(t):await l.createWorker(t)",
  },
];

/**
 * Appended to the module (a hoisted function declaration): a FileAttachment of an `.arrow` file
 * whose `arrayBuffer()` returns the download started here; anything else is returned as it is.
 * insertFile reads an `.arrow` file with exactly one `arrayBuffer()` call.
 */
export const EARLY_FILE_HELPER =
  '\nfunction saasguardEarlyFile(a){if(!a||typeof a.name!=="string"||!/\\.arrow$/i.test(a.name)||typeof a.arrayBuffer!=="function")return a;const b=a.arrayBuffer();b.catch(()=>{});return Object.create(a,{arrayBuffer:{value:()=>b}})}\n';

/**
 * `source` with every patch applied; throws, naming the patch and `file`, unless each applies
 * exactly once (`review` says what to look at).
 */
export function applyPatches(source: string, patches: readonly SourcePatch[], file: string, review: string): string {
  let out = source;
  for (const patch of patches) {
    const n = out.split(patch.from).length - 1;
    if (n !== 1)
      throw new Error(`the patch "${patch.why}" matches ${n} times in ${file} (expected once): review ${review}`);
    out = out.replace(patch.from, () => patch.to);
  }
  return out;
}

/** Patches Framework's DuckDB client in a built site; returns the files patched (none when no page uses DuckDB). */
export async function patchFrameworkClient(siteDir: string): Promise<string[]> {
  const dir = path.join(siteDir, "_observablehq", "stdlib");
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const patched: string[] = [];
  for (const name of names.filter((n) => /^duckdb\.[0-9a-f]+\.js$/.test(n))) {
    const file = path.join(dir, name);
    const source = await readFile(file, "utf-8");
    await writeFile(
      file,
      applyPatches(source, FRAMEWORK_DUCKDB_PATCHES, file, "FRAMEWORK_DUCKDB_PATCHES for this Framework version") +
        EARLY_FILE_HELPER,
    );
    patched.push(file);
  }
  return patched;
}
