/**
 * Extraction from PostgreSQL (loaders/extract/): the synthetic portfolio written into a private
 * PostgreSQL 15 as an application database (one row per product event), then read the way a
 * nightly build reads it — in full the first night, and incrementally the next, after a day of
 * events and a few changed accounts arrived. Times the whole extraction (the usage aggregation
 * runs in PostgreSQL), counts the rows that crossed the wire, and the incremental run's share of
 * a full read of the same data.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import pg from "pg";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {openWarehouse} from "../loaders/duckdb.ts";
import {extractDatabaseSources, type Extraction} from "../loaders/extract/extract.ts";
import {readMapping} from "../loaders/sources.ts";
import {writeAppDatabase} from "../loaders/synthetic/app-database.ts";
import {startPostgres} from "../tests/helpers/postgres.ts";

export interface ExtractFigures {
  customers: number;
  events: number;
  loadSeconds: number;
  full: {seconds: number; rowsRead: number};
  incremental: {seconds: number; rowsRead: number};
  fullAfter: {seconds: number; rowsRead: number};
  /** incremental seconds / full-read seconds of the same data */
  ratio: number;
}

const sum = (xs: Extraction[]) => xs.reduce((a, x) => a + x.read, 0);

export async function benchExtract(customers: number, asOf: string): Promise<ExtractFigures> {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-extract-"));
  const cluster = await startPostgres();
  try {
    const files = join(dir, "files");
    await runGenerate(
      parseGenerateArgs([
        "--out",
        files,
        "--customers",
        String(customers),
        "--months",
        "12",
        "--as-of",
        asOf,
        "--layout",
        "segment",
      ]),
      () => {},
    );
    const url = await cluster.newDatabase();
    const t = performance.now();
    const written = await writeAppDatabase(files, url);
    const loadSeconds = (performance.now() - t) / 1000;
    const plan = readMapping(written.mapping).plan;
    const env = {APP_DATABASE_URL: url};
    const extract = async (name: string, previous: string | null, fullRefresh = false) => {
      const w = await openWarehouse(join(dir, `${name}.duckdb`));
      try {
        const s = performance.now();
        const x = await extractDatabaseSources(w.conn, plan, {
          previousWarehouse: previous,
          fullRefresh,
          env,
          tempPrefix: join(dir, name),
        });
        return {seconds: (performance.now() - s) / 1000, rowsRead: sum(x)};
      } finally {
        w.close();
      }
    };
    const full = await extract("night1", null);
    // the next day: its events (the last day's again, a day later) and five changed accounts
    const c = new pg.Client({connectionString: url});
    await c.connect();
    try {
      await c.query(
        `INSERT INTO events (account_id, user_id, name, occurred_at)
         SELECT account_id, user_id, name, occurred_at + interval '1 day' FROM events
         WHERE occurred_at >= (SELECT max(occurred_at) - interval '1 day' FROM events)`,
      );
      await c.query(
        `UPDATE accounts SET arr = arr * 1.1, updated_at = now() WHERE id IN (SELECT id FROM accounts ORDER BY id LIMIT 5)`,
      );
      await c.query("ANALYZE events");
    } finally {
      await c.end();
    }
    const incremental = await extract("night2", join(dir, "night1.duckdb"));
    const fullAfter = await extract("night2-full", join(dir, "night1.duckdb"), true);
    return {
      customers,
      events: written.rows.events!,
      loadSeconds,
      full,
      incremental,
      fullAfter,
      ratio: incremental.seconds / fullAfter.seconds,
    };
  } finally {
    await cluster.stop();
    rmSync(dir, {recursive: true, force: true});
  }
}

export function formatExtractFigures(x: ExtractFigures): string[] {
  const n = (v: number) => v.toLocaleString("en-US");
  const s = (v: number) => v.toFixed(1);
  return [
    `extract        PostgreSQL application database, ${n(x.customers)} customers, ${n(x.events)} raw events (loaded with COPY in ${s(x.loadSeconds)} s)`,
    `extract        first night, everything: ${s(x.full.seconds)} s, ${n(x.full.rowsRead)} rows crossed the wire (events aggregated in PostgreSQL: ${n(Math.round(x.events / x.full.seconds))} events/s)`,
    `extract        next night, from the cursors: ${s(x.incremental.seconds)} s, ${n(x.incremental.rowsRead)} rows | a full re-read of the same data: ${s(x.fullAfter.seconds)} s, ${n(x.fullAfter.rowsRead)} rows | ratio ${(100 * x.ratio).toFixed(1)}%`,
  ];
}
