/**
 * The warehouse as the API sees it: `data/warehouse.duckdb` opened READ-ONLY, a small pool of
 * connections, and hot reload. The build swaps a new file in by rename; the store notices (a
 * directory watch plus a stat poll), opens the new file, checks it, and serves new requests from
 * it while requests already running finish on the old one, which is closed afterwards.
 *
 * Every query is parameterised; values come back as plain JSON-friendly JS.
 *
 * Event-loop rule: reading a DuckDB result into JS is synchronous work on the main thread
 * (@duckdb/node-api converts value by value, ~1 µs per VARCHAR), so a whole-table read done in one
 * go blocks every request for hundreds of ms. Large reads go through `scan`, which converts a
 * column chunk at a time and yields to the event loop between slices.
 */
import type {DuckDBConnection, DuckDBInstance, DuckDBValue} from "@duckdb/node-api";
import {existsSync, statSync, watch, type FSWatcher} from "node:fs";
import {basename, dirname, resolve} from "node:path";
import {all, openWarehouse} from "../../loaders/duckdb.ts";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./prometheus.ts";
import {unavailable} from "./problem.ts";
import {ReloadingStore, Versioned} from "./refcount.ts";

export interface BuildInfo {
  built_at: string;
  as_of: string;
  source: string;
  customers: number;
}

interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

const POOL_SIZE = 3;
const MEMO_LIMIT = 20_000;
/** longest stretch of synchronous result conversion before `scan` lets requests run */
const SLICE_MS = 2;

/** Lets pending I/O, timers and requests run before continuing a long piece of work. */
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Yields to the event loop whenever `SLICE_MS` of synchronous work have passed since the last yield. */
export class TimeSlicer {
  private since = performance.now();
  async tick(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await yieldToLoop();
    this.since = performance.now();
  }
}

/** A DuckDB value as plain JSON-friendly JS (callers CAST in SQL so that this is mostly a no-op). */
function plainValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object") {
    const s = String(v);
    return "value" in v && "scale" in v ? Number(s) : s; // DECIMAL → number; DATE, TIMESTAMP … → text
  }
  return v;
}

export class WarehouseSnapshot {
  private busy: number[];
  /**
   * Per-snapshot LRU memo of immutable query results (the file is read-only and never changes).
   * It holds promises, so concurrent first requests for a key share one query.
   */
  private memo = new Map<string, Promise<unknown>>();
  constructor(
    readonly path: string,
    readonly identity: FileIdentity,
    readonly info: BuildInfo,
    private readonly instance: DuckDBInstance,
    private readonly conns: DuckDBConnection[],
  ) {
    this.busy = conns.map(() => 0);
  }

  /** Data version: changes with every build. */
  get version(): string {
    return this.info.built_at;
  }

  /** Runs `fn` on the least busy pooled connection. */
  private async withConnection<R>(fn: (conn: DuckDBConnection) => Promise<R>): Promise<R> {
    let k = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[k]!) k = i;
    this.busy[k]!++;
    try {
      return await fn(this.conns[k]!);
    } finally {
      this.busy[k]!--;
    }
  }

  /** A small parameterised query (a few rows), read in one go. */
  query<T = Record<string, unknown>>(sql: string, params: DuckDBValue[] = []): Promise<T[]> {
    return this.withConnection((conn) => all<T>(conn, sql, params));
  }

  /**
   * A large read (whole tables), column-major: `{column: values[]}`. DuckDB produces the result
   * off the main thread chunk by chunk; each chunk is converted one column at a time with a
   * yield to the event loop whenever a slice has run for `SLICE_MS`, so requests keep being
   * served while a snapshot's read model loads.
   */
  scan(sql: string, params: DuckDBValue[] = []): Promise<Record<string, unknown[]>> {
    return this.withConnection(async (conn) => {
      const result = await conn.stream(sql, params);
      const names = result.columnNames();
      const columns: unknown[][] = names.map(() => []);
      const slicer = new TimeSlicer();
      for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
        for (let j = 0; j < names.length; j++) {
          const out = columns[j]!;
          for (const v of chunk.getColumnValues(j)) out.push(plainValue(v));
          await slicer.tick();
        }
      }
      return Object.fromEntries(names.map((n, j) => [n, columns[j]!]));
    });
  }

  /** `load()`, remembered for the snapshot's lifetime (least recently used evicted first; failures are not remembered). */
  cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.memo.get(key);
    if (hit) {
      this.memo.delete(key);
      this.memo.set(key, hit);
      return hit as Promise<T>;
    }
    const p = load();
    this.memo.set(key, p);
    if (this.memo.size > MEMO_LIMIT) this.memo.delete(this.memo.keys().next().value!);
    p.catch(() => {
      if (this.memo.get(key) === p) this.memo.delete(key);
    });
    return p;
  }

  close(): void {
    for (const c of this.conns) c.closeSync();
    this.instance.closeSync();
  }
}

function identityOf(path: string): FileIdentity | null {
  try {
    const s = statSync(path);
    return {ino: s.ino, size: s.size, mtimeMs: s.mtimeMs};
  } catch {
    return null;
  }
}

const sameIdentity = (a: FileIdentity | null, b: FileIdentity | null) =>
  !!a && !!b && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Opens and checks one warehouse file (read-only). */
export async function openSnapshot(path: string): Promise<WarehouseSnapshot> {
  const identity = identityOf(path);
  if (!identity) throw new Error(`${path} does not exist — build it with \`npm run build\``);
  const w = await openWarehouse(path, {readOnly: true, threads: 2});
  try {
    const conns = [w.conn];
    for (let i = 1; i < POOL_SIZE; i++) conns.push(await w.instance.connect());
    const rows = await all<BuildInfo>(
      w.conn,
      "SELECT CAST(built_at AS VARCHAR) AS built_at, CAST(as_of AS VARCHAR) AS as_of, source, customers FROM marts.build_info",
    );
    if (rows.length !== 1)
      throw new Error(`${path}: marts.build_info has ${rows.length} rows (a finished build writes exactly one)`);
    // the tables the endpoints read must be there
    for (const t of [
      "marts.mart_customer_risk_scores",
      "marts.mart_customer_drivers",
      "marts.mart_customer_expansion_features",
      "marts.mart_propensity_quadrant",
      "raw.support_tickets",
      "raw.gtm_opportunities",
      "raw.customers",
    ])
      await all(w.conn, `SELECT 1 FROM ${t} LIMIT 0`);
    return new WarehouseSnapshot(path, identity, rows[0]!, w.instance, conns);
  } catch (e) {
    w.close();
    throw new Error(`${path}: not a usable SaaSGuard warehouse (${(e as Error).message.split("\n")[0]})`);
  }
}

export class WarehouseStore extends ReloadingStore<WarehouseSnapshot> {
  readonly path: string;
  protected readonly versions = new Versioned<WarehouseSnapshot>(
    (s) => s.close(),
    () =>
      unavailable(
        `the warehouse (${basename(this.path)}) is not available yet${this.lastError ? `: ${this.lastError}` : ""} — run \`npm run build\`; the server picks it up without a restart`,
      ),
  );
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private failed: FileIdentity | null = null;

  constructor(
    path: string,
    private readonly log: Logger,
    private readonly metrics: ApiMetrics,
    /** runs on a newly opened snapshot before it serves requests (e.g. building indexes) */
    private readonly warm?: (s: WarehouseSnapshot) => Promise<unknown>,
  ) {
    super();
    this.path = resolve(path);
  }

  protected async doCheck(): Promise<void> {
    const id = identityOf(this.path);
    const cur = this.versions.current;
    if (!id || (cur && sameIdentity(id, cur.identity)) || sameIdentity(id, this.failed)) return;
    try {
      const snap = await openSnapshot(this.path);
      try {
        await this.warm?.(snap);
      } catch (e) {
        snap.close();
        throw e;
      }
      const previous = cur?.version ?? null;
      this.versions.swap(snap);
      this.lastError = null;
      if (cur) this.metrics.reloads.inc({kind: "warehouse", outcome: "ok"});
      this.log.info(cur ? "warehouse reloaded" : "warehouse opened", {
        path: this.path,
        built_at: snap.info.built_at,
        as_of: snap.info.as_of,
        customers: snap.info.customers,
        previous_built_at: previous,
      });
    } catch (e) {
      this.lastError = (e as Error).message;
      this.failed = id; // not retried until the file changes again
      this.metrics.reloads.inc({kind: "warehouse", outcome: "error"});
      this.log.warn("warehouse not (re)loaded; still serving the previous one", {
        path: this.path,
        error: this.lastError,
      });
    }
  }

  /** Starts watching the file's folder (and polling, which also covers missed events). */
  watch(pollMs: number): void {
    const dir = dirname(this.path);
    const name = basename(this.path);
    if (existsSync(dir)) {
      try {
        this.watcher = watch(dir, (_event, file) => {
          if (file !== null && file !== name) return;
          if (this.debounce) clearTimeout(this.debounce);
          this.debounce = setTimeout(() => void this.check(), 150);
        });
        this.watcher.on("error", () => undefined);
      } catch {
        this.watcher = null;
      }
    }
    this.poll(pollMs);
  }

  override close(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    super.close();
  }
}
