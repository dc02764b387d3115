/**
 * The raw event log benchmark (issue "Your data, your words"): a Segment-style event export —
 * one row per event with a timestamp, account, user and event name — aggregated by ingest into
 * daily usage. The files are written first (not timed): a synthetic portfolio of 5,000 accounts
 * as CSV, and N events over its accounts and users in Parquet, CSV or JSON Lines. The timed part
 * is the whole `ingestFiles` through the mapping, in a child process so that its peak RSS is
 * the ingest's alone.
 */
import {spawn} from "node:child_process";
import {writeFileSync} from "node:fs";
import {join} from "node:path";
import {CONTRACT} from "../loaders/contract.ts";
import {lit, openWarehouse} from "../loaders/duckdb.ts";
import {generateSynthetic} from "../loaders/synthetic/generate.ts";

export type EventFormat = "parquet" | "csv" | "jsonl";

export interface EventsFigure {
  format: EventFormat;
  events: number;
  accounts: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssBytes: number;
  usageRows: number;
}

/** Writes the portfolio (CSV) and an event log of `events` rows into `dir`; returns the mapping file. */
export async function writeEventLog(
  dir: string,
  opts: {events: number; accounts: number; asOf: string; format: EventFormat},
): Promise<string> {
  const w = await openWarehouse(":memory:", {memoryLimit: "4GB"});
  try {
    await generateSynthetic(w.conn, {customers: opts.accounts, seed: 11, asOf: opts.asOf});
    for (const t of CONTRACT)
      if (t.name !== "usage_events")
        await w.conn.run(`COPY raw.${t.name} TO ${lit(join(dir, `${t.name}.csv`))} (HEADER)`);
    // events over the last year, ~20 users per account, the demo's event names (Segment's columns);
    // Parquet holds a typed timestamp, as a warehouse export does, CSV and JSON Lines ISO text with Z
    const file = join(dir, `tracks.${opts.format}`);
    const format =
      opts.format === "parquet" ? "(FORMAT parquet)" : opts.format === "csv" ? "(HEADER)" : "(FORMAT json)";
    await w.conn.run(
      `COPY (
         SELECT c.customer_id AS context_group_id, 'u' || (a * 20 + (h >> 12) % 20) AS user_id,
                ['login', 'feature_use', 'feature_use', 'report_export', 'api_call', 'integration_connect', 'premium_feature_trial', 'feature_limit_hit'][((h >> 8) % 8 + 1)::BIGINT] AS event,
                ${opts.format === "parquet" ? "t" : "strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ')"} AS "timestamp"
         FROM (SELECT i % ${opts.accounts} AS a, hash(i) AS h,
                      CAST(TIMESTAMP ${lit(opts.asOf)} - to_microseconds(((hash(i) >> 20) % (365 * 86400000000))::BIGINT) AS TIMESTAMPTZ) AS t
               FROM range(${opts.events}) r(i)) e
         JOIN (SELECT customer_id, row_number() OVER (ORDER BY customer_id) - 1 AS a FROM raw.customers) c USING (a)
       ) TO ${lit(file)} ${format}`,
    );
    const mapping = join(dir, "sources.json");
    writeFileSync(
      mapping,
      JSON.stringify({
        folder: ".",
        tables: {
          usage_events: {
            from: `tracks.${opts.format}`,
            events: {at: "timestamp", name: "event", account: "context_group_id", user: "user_id"},
          },
        },
      }),
    );
    return mapping;
  } finally {
    w.close();
  }
}

/** Times the ingest of the mapping's files in a child process (bench/events-child.ts). */
export function timeEventIngest(
  mapping: string,
  asOf: string,
): Promise<{seconds: number; peakRssBytes: number; usageRows: number}> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "bench/events-child.ts", mapping, asOf], {stdio: ["ignore", "pipe", "inherit"]});
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
        : reject(new Error(`event ingest exited with ${code}`)),
    );
  });
}
