/**
 * The assistant's quality (issue #18) as the build reads it from the operational store: once, in
 * the same read as the CTA work (loaders/cta.ts readWork), into ops.assistant_quality, which
 * loaders/sql/mart_assistant_quality.sql publishes as marts.mart_assistant_quality for the Model
 * quality page. The rows are already weekly aggregates (store.assistantQuality): a few per week.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {writeTable} from "./duckdb.ts";
import type {OperationalStore} from "./store/types.ts";

export async function readAssistantQuality(conn: DuckDBConnection, store: OperationalStore | null): Promise<number> {
  const rows = store ? await store.assistantQuality() : [];
  await writeTable(
    conn,
    "ops.assistant_quality",
    {
      week: "VARCHAR",
      generator: "VARCHAR",
      audience: "VARCHAR",
      made: "INTEGER",
      guardrail_passed: "INTEGER",
      rated: "INTEGER",
      accurate: "INTEGER",
    },
    rows.map((r) => [r.week, r.generator, r.audience, r.made, r.guardrail_passed, r.rated, r.accurate]),
  );
  return rows.length;
}
