/**
 * Trims a WebAssembly module's export section to the exports its JavaScript glue can reach.
 *
 * duckdb-wasm is built as an Emscripten MAIN_MODULE so that extensions (side modules) can link
 * against it: it exports all 88,220 of its symbols, whose names (mangled C++) fill 9.9 MB of the
 * 35.7 MB module. The browser downloads those names, reads them from its cache on every visit,
 * and builds an export object with 88,220 functions before DuckDB can start — on a warm visit
 * instantiation took ~1.2 s of a ~2 s page. SaaSGuard never loads extensions (the site has no
 * network beyond its own origin), so the only users of the exports are the worker's glue and
 * the module's own GOT imports; everything else is dropped: 251 exports, 25.8 MB, ~0.75 s.
 *
 * An export is kept when
 * - the glue names it (`wasmExports["name"]`, `Module["_name"]`, `_name`): every identifier and
 *   string in the glue is a candidate, which keeps more than needed, never less;
 * - a `GOT.mem` / `GOT.func` import of the module itself names it (resolved from the exports);
 * - it is a `dynCall_<signature>` (the glue builds those names at run time), or the `orig$`
 *   original of a kept export;
 * - it is not a function or a global (the memory, the table, exception tags).
 *
 * Code, data and every other section are copied byte for byte. Written here because no
 * maintained npm package rewrites one section of a 36 MB module without re-encoding all of it
 * (binaryen reads and re-emits the whole module, and its optimiser is not what is wanted here).
 */

const FUNC = 0;
const GLOBAL = 3;
const EXPORT_SECTION = 7;
const IMPORT_SECTION = 2;

export interface TrimResult {
  wasm: Uint8Array<ArrayBuffer>;
  kept: number;
  total: number;
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {}
  fail(what: string): never {
    throw new Error(`${this.file}: not a WebAssembly module this step can read (${what} at byte ${this.pos})`);
  }
  byte(): number {
    if (this.pos >= this.bytes.length) this.fail("unexpected end");
    return this.bytes[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) this.fail("LEB128 number too long");
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
  }
  name(): string {
    const n = this.u32();
    if (this.pos + n > this.bytes.length) this.fail("name past the end");
    const s = new TextDecoder("utf-8", {fatal: true}).decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

function u32Bytes(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** The names a module's own GOT imports ask for (Emscripten resolves them from its exports). */
function gotImports(r: Reader, end: number): Set<string> {
  const names = new Set<string>();
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    if (module === "GOT.mem" || module === "GOT.func") names.add(name);
    const kind = r.byte();
    if (kind === 0) r.u32();
    else if (kind === 1) {
      r.byte();
      r.limits();
    } else if (kind === 2) r.limits();
    else if (kind === 3) r.pos += 2;
    else if (kind === 4) {
      r.byte();
      r.u32();
    } else r.fail(`import kind ${kind}`);
  }
  if (r.pos !== end) r.fail("import section length");
  return names;
}

/**
 * `wasm` with only the exports `glue` can reach (see the module comment). Throws, naming `file`,
 * for bytes this step cannot read as a WebAssembly module (the caller also validates the result).
 */
export function keepGlueExports(wasm: Uint8Array, glue: string, file: string): TrimResult {
  const r = new Reader(wasm, file);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (wasm.length < 8 || magic.some((b, i) => wasm[i] !== b)) r.fail("no WebAssembly magic number and version 1");
  const tokens = new Set(glue.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const named = (name: string) => tokens.has(name) || tokens.has(`_${name}`);
  r.pos = 8;
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  let got = new Set<string>();
  let kept = 0;
  let total = 0;
  let sawExports = false;
  while (r.pos < wasm.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > wasm.length) r.fail(`section ${id} past the end`);
    if (id === IMPORT_SECTION) got = gotImports(r, end);
    if (id !== EXPORT_SECTION) {
      parts.push(wasm.subarray(sectionStart, end));
      r.pos = end;
      continue;
    }
    sawExports = true;
    const entries: Uint8Array[] = [];
    total = r.u32();
    for (let i = 0; i < total; i++) {
      const entryStart = r.pos;
      const name = r.name();
      const kind = r.byte();
      r.u32();
      const keep =
        (kind !== FUNC && kind !== GLOBAL) ||
        named(name) ||
        got.has(name) ||
        name.startsWith("dynCall_") ||
        (name.startsWith("orig$") && (named(name.slice(5)) || got.has(name.slice(5))));
      if (keep) entries.push(wasm.subarray(entryStart, r.pos));
    }
    if (r.pos !== end) r.fail("export section length");
    kept = entries.length;
    const body = [...u32Bytes(kept)];
    const bodyLength = body.length + entries.reduce((n, e) => n + e.length, 0);
    parts.push(Uint8Array.from([EXPORT_SECTION, ...u32Bytes(bodyLength), ...body]), ...entries);
  }
  if (!sawExports) r.fail("no export section");
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return {wasm: out, kept, total};
}
