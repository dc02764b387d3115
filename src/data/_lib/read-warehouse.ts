/**
 * Node-side helpers for the site's data loaders that need query results in the loader process
 * (to combine several queries into one small JSON file, or to pack per-customer files into an
 * archive) rather than streamed straight to stdout like `exportJson` / `exportArrow` do.
 *
 * Results go through DuckDB's own JSON writer (`COPY … (FORMAT json)`), so types come out the
 * same as in `exportJson`: integers of any width as numbers, DATE as "YYYY-MM-DD", TIMESTAMP as
 * "YYYY-MM-DD HH:MM:SS", lists and structs as arrays and objects.
 *
 * The warehouse is opened READ-ONLY. Queries must name their columns: no PII (see
 * loaders/site/site-tables.ts).
 */
import {existsSync} from "node:fs";
import {mkdtemp, readFile, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {DuckDBInstance, type DuckDBConnection} from "@duckdb/node-api";
import {warehousePath} from "../../../loaders/site/export.ts";
import {lit} from "../../components/sql.ts";

/** An open read-only warehouse connection with typed helpers. */
export interface Warehouse {
  /** rows of `sql` as plain JSON objects */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** the one row of `sql` (an error naming the query otherwise) */
  row<T = Record<string, unknown>>(sql: string): Promise<T>;
  /** the underlying connection, for COPY statements */
  readonly connection: DuckDBConnection;
}

/** Opens the warehouse read-only, runs `f`, and always closes it again. */
export async function withWarehouse<T>(f: (w: Warehouse) => Promise<T>): Promise<T> {
  const file = warehousePath();
  if (!existsSync(file))
    throw new Error(`warehouse not found: ${file} — run \`npm run build\` first, or set SAASGUARD_WAREHOUSE`);
  const instance = await DuckDBInstance.create(file, {access_mode: "READ_ONLY"});
  const connection = await instance.connect();
  const dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-loader-"));
  let n = 0;
  const w: Warehouse = {
    connection,
    async rows<T>(sql: string): Promise<T[]> {
      const out = path.join(dir, `q${n++}.json`);
      try {
        await connection.run(`COPY (${sql.trim().replace(/;\s*$/, "")}) TO ${lit(out)} (FORMAT json, ARRAY true)`);
      } catch (error) {
        throw new Error(
          `query on ${file} failed: ${error instanceof Error ? error.message : String(error)}\n  query: ${sql.trim()}`,
        );
      }
      return JSON.parse(await readFile(out, "utf-8")) as T[];
    },
    async row<T>(sql: string): Promise<T> {
      const rows = await w.rows<T>(sql);
      if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}\n  query: ${sql.trim()}`);
      return rows[0]!;
    },
  };
  try {
    return await f(w);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, {recursive: true, force: true});
  }
}

/** The card of the churn model that scored this warehouse (marts.model_card, written by the build). */
export async function modelCard<T = Record<string, unknown>>(w: Warehouse): Promise<T> {
  return JSON.parse(
    (await w.row<{card_json: string}>(`SELECT card_json FROM marts.model_card LIMIT 1`)).card_json,
  ) as T;
}

/** Writes a JSON value to stdout (a loader's output). */
export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + "\n");
}

/**
 * A minimal POSIX ustar archive (regular files only), which Framework's archive loaders
 * (`name.tar.ts` → `name/<member>`) extract members from.
 */
export function tarArchive(files: {name: string; data: Buffer}[]): Buffer {
  const blocks: Buffer[] = [];
  const mtime = Math.floor(Date.now() / 1000);
  for (const f of files) {
    if (Buffer.byteLength(f.name) > 100) throw new Error(`tarArchive: member name too long: ${f.name}`);
    const h = Buffer.alloc(512, 0);
    const put = (s: string, offset: number, length: number) => h.write(s.slice(0, length), offset, length, "utf-8");
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, "0") + "\0";
    put(f.name, 0, 100);
    put(octal(0o644, 8), 100, 8);
    put(octal(0, 8), 108, 8);
    put(octal(0, 8), 116, 8);
    put(octal(f.data.length, 12), 124, 12);
    put(octal(mtime, 12), 136, 12);
    put("        ", 148, 8); // checksum placeholder (spaces)
    put("0", 156, 1);
    put("ustar\0", 257, 6);
    put("00", 263, 2);
    let sum = 0;
    for (const b of h) sum += b;
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
    blocks.push(h, f.data);
    const pad = (512 - (f.data.length % 512)) % 512;
    if (pad) blocks.push(Buffer.alloc(pad, 0));
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}
