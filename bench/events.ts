/**
 * The ingest benchmarks (issue "Your data, your words"). Part "ingest": the portfolio as a team's
 * own CSV exports read through a source mapping. Part "events": a Segment-style event export —
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

/**
 * The portfolio of `customers` accounts as a team's own exports (bench part "ingest"): every raw
 * table as CSV, the accounts under CRM column names with their plan tiers renamed, and a mapping
 * with the renames and the vocabulary. Returns the mapping file and the raw rows written.
 */
export async function writeMappedPortfolio(
  dir: string,
  opts: {customers: number; asOf: string},
): Promise<{mapping: string; rows: number}> {
  const w = await openWarehouse(":memory:", {memoryLimit: "4GB"});
  try {
    await generateSynthetic(w.conn, {customers: opts.customers, seed: 13, asOf: opts.asOf});
    let rows = 0;
    for (const t of CONTRACT) {
      const select =
        t.name === "customers"
          ? `SELECT customer_id AS "Account ID", company_name AS "Account Name", * EXCLUDE (customer_id, company_name, plan_tier),
                    CASE plan_tier WHEN 'Starter' THEN 'Pro' WHEN 'Growth' THEN 'Business' ELSE plan_tier END AS "Plan" FROM raw.customers`
          : `FROM raw.${t.name}`;
      await w.conn.run(`COPY (${select}) TO ${lit(join(dir, `${t.name}.csv`))} (HEADER)`);
      rows += Number((await w.conn.runAndReadAll(`SELECT count(*) FROM raw.${t.name}`)).getRows()[0]![0]);
    }
    const mapping = join(dir, "sources.json");
    writeFileSync(
      mapping,
      JSON.stringify({
        folder: ".",
        vocabulary: {
          planTiers: [
            {name: "Pro", arrCeiling: 15_000},
            {name: "Business", arrCeiling: 80_000},
            {name: "Enterprise", arrCeiling: 500_000},
          ],
        },
        tables: {
          customers: {
            from: "customers.csv",
            columns: {customer_id: "Account ID", company_name: "Account Name", plan_tier: "Plan"},
          },
        },
      }),
    );
    return {mapping, rows: Number(rows)};
  } finally {
    w.close();
  }
}

/** Times the ingest of the mapping's files in a child process (bench/ingest-child.ts). */
export function timeIngest(
  mapping: string,
  asOf: string,
): Promise<{seconds: number; peakRssBytes: number; usageRows: number}> {
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["tsx", "bench/ingest-child.ts", mapping, asOf], {stdio: ["ignore", "pipe", "inherit"]});
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(stdout.trim().split("\n").at(-1)!))
        : reject(new Error(`event ingest exited with ${code}`)),
    );
  });
}
