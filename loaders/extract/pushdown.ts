/**
 * The usage aggregation pushed down to the database: a raw event table (one row per event,
 * billions of them) never crosses the wire — the query that runs in PostgreSQL groups it per
 * account, day and event name, and counts each account's distinct users per day, the same two
 * aggregations ingest runs in DuckDB on an event-log file (ingest.ts, stageEvents).
 *
 * The SQL is plain (CAST, AT TIME ZONE, count(DISTINCT …), UNION ALL) so a data engineer can run
 * the same aggregation in Snowflake, BigQuery, Redshift, Trino or Spark SQL and hand SaaSGuard
 * the result as a file (README, "Sources that live in databases").
 */
import {lit} from "../duckdb.ts";
import type {EventLog} from "../sources.ts";
import {subquery} from "./postgres.ts";

/** How the event time is stored in the database, which decides how its day is taken. */
export type EventTimeType = "timestamptz" | "timestamp" | "date" | "epoch";

/** The event's day where the team is, in PostgreSQL, for an event time of this type. */
export function eventDaySql(at: string, type: EventTimeType, zone: string): string {
  switch (type) {
    case "timestamptz":
      return `CAST((${at}) AT TIME ZONE ${lit(zone)} AS date)`;
    case "timestamp":
      return `CAST(${at} AS date)`;
    case "date":
      return `(${at})`;
    case "epoch":
      // seconds, or milliseconds when the number is too large to be seconds (as ingest reads them)
      return `CAST(to_timestamp(CASE WHEN ${at} > 1e11 THEN ${at} / 1000.0 ELSE ${at} END) AT TIME ZONE ${lit(zone)} AS date)`;
  }
}

/**
 * The condition keeping events from day `since` on (where the team is), written so an index on
 * the event time can serve it — and the events without a time, which belong to no day: they are
 * counted and told every night, as a full read would.
 */
export function eventsSinceSql(at: string, type: EventTimeType, zone: string, since: string): string {
  const from =
    type === "timestamptz"
      ? `${at} >= (TIMESTAMP ${lit(since)} AT TIME ZONE ${lit(zone)})`
      : type === "timestamp"
        ? `${at} >= TIMESTAMP ${lit(since)}`
        : type === "date"
          ? `${at} >= DATE ${lit(since)}`
          : `${eventDaySql(at, type, zone)} >= DATE ${lit(since)}`;
  return `(${from} OR ${at} IS NULL)`;
}

/**
 * The daily usage of an event query: rows (account_id, event_date, event_type, event_count),
 * plus one `active_users` row per account and day with its distinct users when the log has
 * users. Events without an account, a day or a name group under NULL and are counted by ingest.
 */
export function eventsPushdownSql(
  query: string,
  events: EventLog,
  type: EventTimeType,
  zone: string,
  since?: string,
): string {
  const user = events.user ? `,\n         CAST(${events.user} AS text) AS user_id` : "";
  const where = since ? `\n  WHERE ${eventsSinceSql(events.at, type, zone, since)}` : "";
  const activeUsers = events.user
    ? `
UNION ALL
SELECT account_id, event_date, 'active_users' AS event_type, count(DISTINCT user_id) AS event_count
FROM e
WHERE account_id IS NOT NULL AND event_date IS NOT NULL AND event_type IS NOT NULL
GROUP BY account_id, event_date
HAVING count(DISTINCT user_id) > 0`
    : "";
  return `WITH e AS (
  SELECT CAST(${events.account} AS text) AS account_id,
         ${eventDaySql(events.at, type, zone)} AS event_date,
         CAST(${events.name} AS text) AS event_type${user}
  FROM ${subquery(query)} src${where}
)
SELECT account_id, event_date, event_type, count(*) AS event_count
FROM e
GROUP BY account_id, event_date, event_type${activeUsers}`;
}
