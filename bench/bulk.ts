/**
 * Bulk export through the API, as a CRM sync does it: every account of a build read from a real
 * server process (`node --import tsx server/serve-api.ts`, request logging on) by this process,
 * on 127.0.0.1, two ways —
 *
 * 1. paginated JSON: `GET /predictions/batch?limit=1000`, following `next_cursor` to the end;
 * 2. one NDJSON stream: `GET /predictions/batch` with `Accept: application/x-ndjson`.
 *
 * Both include the client's own work (reading and parsing every account) and check that every
 * account arrived exactly once. The issue's target is 100,000 accounts in ≤ 10 s each way; a
 * build of N customers scores only its active accounts (about three in four), so the figure is
 * also given per 100,000 accounts (export time is linear in accounts: a page or a chunk is the
 * same work wherever it is). The server's resident memory is sampled during the stream: it must
 * not grow with the export (the stream is made chunk by chunk as the socket takes it).
 *
 * `npx tsx bench/bulk.ts [--warehouse data/warehouse.duckdb] [--models models]` runs it alone;
 * `benchBulk()` is what bench/run.ts calls (on the builds it makes, 100,000 customers included).
 */
import {spawn} from "node:child_process";
import {existsSync, readFileSync} from "node:fs";
import {resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import {isMainModule} from "../loaders/cli/command.ts";
import {freePort, type ApiTarget} from "./api.ts";

export interface ExportRun {
  seconds: number;
  accounts: number;
  bytes: number;
}

export interface BulkBenchFigures {
  /** active accounts of the build (what one export holds) */
  accounts: number;
  pageSize: number;
  /** the first export after the server became ready (it also sorts the build's accounts once), then a second */
  json: ExportRun[];
  ndjson: ExportRun[];
  /** slowest page of the JSON exports, ms */
  slowestPageMs: number;
  /** NDJSON: time to the first byte, ms (first run) */
  ndjsonFirstByteMs: number;
  /** server RSS before the NDJSON exports and its peak during them, MiB */
  serverRssBeforeMiB: number;
  serverRssPeakDuringStreamMiB: number;
  /** seconds per 100,000 accounts (the slower of the two runs), each way */
  jsonSecondsPer100k: number;
  ndjsonSecondsPer100k: number;
}

export function bulkTargets(f: BulkBenchFigures): ApiTarget[] {
  const scaled = f.accounts === 100_000 ? "" : ` (measured on ${f.accounts.toLocaleString("en-US")}, per 100,000)`;
  return [
    {
      name: `bulk export of 100,000 accounts, paginated JSON${scaled}`,
      value: f.jsonSecondsPer100k,
      unit: "s",
      limit: 10,
      kind: "max",
    },
    {
      name: `bulk export of 100,000 accounts, one NDJSON stream${scaled}`,
      value: f.ndjsonSecondsPer100k,
      unit: "s",
      limit: 10,
      kind: "max",
    },
  ];
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function waitReady(url: string, exited: () => number | null, log: string[], ms = 180_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (exited() !== null) throw new Error(`the API server exited with ${exited()}:\n${log.slice(-10).join("\n")}`);
    try {
      if ((await fetch(`${url}/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the API server at ${url} was not ready within ${ms / 1000} s:\n${log.slice(-10).join("\n")}`);
}

/** Every account through the JSON pages; checks each arrives once. */
async function exportPages(url: string, pageSize: number): Promise<ExportRun & {slowestPageMs: number; total: number}> {
  const seen = new Set<string>();
  let bytes = 0;
  let slowest = 0;
  let total = 0;
  let cursor: string | null = null;
  const t0 = performance.now();
  do {
    const p0 = performance.now();
    const r = await fetch(
      `${url}/predictions/batch?limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    const text = await r.text();
    if (!r.ok) throw new Error(`page answered ${r.status}: ${text.slice(0, 300)}`);
    const page = JSON.parse(text) as {items: {customer_id: string}[]; next_cursor: string | null; total: number};
    slowest = Math.max(slowest, performance.now() - p0);
    bytes += text.length;
    total = page.total;
    for (const it of page.items) {
      if (seen.has(it.customer_id)) throw new Error(`account ${it.customer_id} came twice`);
      seen.add(it.customer_id);
    }
    cursor = page.next_cursor;
  } while (cursor);
  const seconds = (performance.now() - t0) / 1000;
  if (seen.size !== total) throw new Error(`${seen.size} accounts exported, the server counts ${total}`);
  return {seconds, accounts: seen.size, bytes, slowestPageMs: slowest, total};
}

/** Every account through one NDJSON stream, parsed line by line as it arrives; checks each arrives once. */
async function exportStream(url: string, onChunk: () => void): Promise<ExportRun & {firstByteMs: number}> {
  const t0 = performance.now();
  const r = await fetch(`${url}/predictions/batch`, {headers: {accept: "application/x-ndjson"}});
  if (!r.ok || !r.body) throw new Error(`stream answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  const total = Number(r.headers.get("x-total-count"));
  const seen = new Set<string>();
  const decoder = new TextDecoder();
  let rest = "";
  let bytes = 0;
  let firstByteMs = -1;
  const reader = r.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    const chunk = next.value;
    if (firstByteMs < 0) firstByteMs = performance.now() - t0;
    bytes += chunk.byteLength;
    const lines = (rest + decoder.decode(chunk, {stream: true})).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      const id = (JSON.parse(line) as {customer_id: string}).customer_id;
      if (seen.has(id)) throw new Error(`account ${id} came twice`);
      seen.add(id);
    }
    onChunk();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (rest) throw new Error("the stream ended inside a line");
  if (seen.size !== total) throw new Error(`${seen.size} lines streamed, X-Total-Count says ${total}`);
  return {seconds, accounts: seen.size, bytes, firstByteMs};
}

export async function benchBulk(
  options: {warehousePath?: string; modelsDir?: string; pageSize?: number; log?: (m: string) => void} = {},
): Promise<BulkBenchFigures> {
  const warehousePath = resolve(options.warehousePath ?? "data/warehouse.duckdb");
  const modelsDir = resolve(options.modelsDir ?? "models");
  const pageSize = options.pageSize ?? 1000;
  const log = options.log ?? ((m: string) => console.error(m));
  if (!existsSync(warehousePath)) throw new Error(`benchBulk: ${warehousePath} does not exist — build it first`);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverLog: string[] = [];
  // node itself (not npx), so that child.pid is the server whose memory is sampled
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("../server/serve-api.ts", import.meta.url))],
    {
      env: {
        ...process.env,
        API_PORT: String(port),
        API_HOST: "127.0.0.1",
        WAREHOUSE_PATH: warehousePath,
        MODELS_DIR: modelsDir,
        RATE_LIMIT_PER_MINUTE: "10000000",
        RATE_LIMIT_BURST: "1000000",
        LOG_LEVEL: "info",
        API_KEYS: "",
        LLM_BASE_URL: "",
        LLM_MODEL: "",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  child.stderr!.on("data", (d: Buffer) => serverLog.push(...d.toString().split("\n").filter(Boolean)));
  try {
    await waitReady(url, () => child.exitCode, serverLog);
    const json: ExportRun[] = [];
    const ndjson: ExportRun[] = [];
    let slowestPageMs = 0;
    for (let k = 1; k <= 2; k++) {
      log(`== bulk: export ${k} as paginated JSON (${pageSize} a page)`);
      const p = await exportPages(url, pageSize);
      json.push({seconds: p.seconds, accounts: p.accounts, bytes: p.bytes});
      slowestPageMs = Math.max(slowestPageMs, p.slowestPageMs);
    }
    const rssBefore = rssMiB(child.pid!);
    let rssPeak = rssBefore;
    let firstByteMs = -1;
    for (let k = 1; k <= 2; k++) {
      log(`== bulk: export ${k} as one NDJSON stream`);
      let chunks = 0;
      const s = await exportStream(url, () => {
        if (chunks++ % 16 === 0) rssPeak = Math.max(rssPeak, rssMiB(child.pid!));
      });
      if (firstByteMs < 0) firstByteMs = s.firstByteMs;
      ndjson.push({seconds: s.seconds, accounts: s.accounts, bytes: s.bytes});
    }
    const accounts = json[0]!.accounts;
    const per100k = (runs: ExportRun[]) => (Math.max(...runs.map((r) => r.seconds)) * 100_000) / accounts;
    return {
      accounts,
      pageSize,
      json,
      ndjson,
      slowestPageMs,
      ndjsonFirstByteMs: firstByteMs,
      serverRssBeforeMiB: rssBefore,
      serverRssPeakDuringStreamMiB: rssPeak,
      jsonSecondsPer100k: per100k(json),
      ndjsonSecondsPer100k: per100k(ndjson),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        r();
      }, 10_000);
      child.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

export function formatBulkFigures(key: string, f: BulkBenchFigures): string[] {
  const runs = (xs: ExportRun[]) => xs.map((r) => `${r.seconds.toFixed(2)} s`).join(", ");
  const mb = (xs: ExportRun[]) => (xs[0]!.bytes / 1e6).toFixed(0);
  return [
    `${key.padEnd(14)} ${f.accounts.toLocaleString("en-US")} accounts | paginated JSON (${f.pageSize} a page, ${mb(f.json)} MB): ${runs(f.json)}, slowest page ${Math.round(f.slowestPageMs)} ms | NDJSON stream (${mb(f.ndjson)} MB): ${runs(f.ndjson)}, first byte ${Math.round(f.ndjsonFirstByteMs)} ms | per 100,000: JSON ${f.jsonSecondsPer100k.toFixed(2)} s, NDJSON ${f.ndjsonSecondsPer100k.toFixed(2)} s | server RSS ${Math.round(f.serverRssBeforeMiB)} MiB → peak ${Math.round(f.serverRssPeakDuringStreamMiB)} MiB while streaming`,
  ];
}

if (isMainModule(import.meta.url)) {
  const {values} = parseArgs({options: {warehouse: {type: "string"}, models: {type: "string"}}});
  const f = await benchBulk({warehousePath: values.warehouse, modelsDir: values.models});
  for (const l of formatBulkFigures("bulk", f)) console.log(l);
  let failed = 0;
  for (const t of bulkTargets(f)) {
    const ok = t.kind === "max" ? t.value <= t.limit : t.value >= t.limit;
    if (!ok) failed++;
    console.log(`${ok ? "PASS" : "FAIL"}  ${t.name}: ${t.value.toFixed(2)} ${t.unit} (≤ ${t.limit})`);
  }
  process.exit(failed ? 1 : 0);
}
