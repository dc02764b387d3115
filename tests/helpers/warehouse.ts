/**
 * The warehouse the site tests build from. ONE function, so switching the tests from the
 * fixture below to the real pipeline (`npm run build` → data/warehouse.duckdb) is a one-line
 * change in `ensureTestWarehouse`.
 *
 * The fixture is test data only — random but deterministic rows with the real marts' schema —
 * and lives in the OS temp directory; it is never the product's data.
 */
import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/** Path of a warehouse holding marts.mart_customer_risk_scores and marts.build_info. */
export async function ensureTestWarehouse(): Promise<string> {
  return ensureFixtureWarehouse();
}

/** Bump when the fixture's schema or content changes, so stale fixtures are rebuilt. */
const FIXTURE_VERSION = 2;

/**
 * Creates (once) a small DuckDB warehouse with the marts the site reads, filled with
 * deterministic pseudo-random rows. Includes a PII column so tests can prove it is not exported.
 */
export async function ensureFixtureWarehouse(customers = 600): Promise<string> {
  const dir = path.join(os.tmpdir(), "saasguard-fixtures");
  const file = path.join(dir, `warehouse-v${FIXTURE_VERSION}-${customers}.duckdb`);
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  const instance = await DuckDBInstance.create(tmp);
  const c = await instance.connect();
  try {
    await c.run(`SELECT setseed(0.42)`);
    await c.run(`CREATE SCHEMA marts`);
    await c.run(`
      CREATE TABLE marts.mart_customer_risk_scores AS
      WITH base AS (
        SELECT i,
          printf('C%05d', i) AS customer_id,
          ['Acme','Globex','Initech','Umbrella','Hooli','Vandelay','Stark','Wayne','Wonka','Tyrell'][1 + (i % 10)]
            || ' ' || ['Labs','Systems','Group','Corp','Analytics','Cloud'][1 + ((i * 7) % 6)] || ' ' || i AS company_name,
          ['FinTech','HealthTech','Retail','Manufacturing','Media','Education','Logistics','Software'][1 + (i % 8)] AS industry,
          ['SMB','Mid-Market','Enterprise'][1 + ((i * 3) % 3)] AS company_size,
          CASE WHEN random() < 0.5 THEN 'Starter' WHEN random() < 0.7 THEN 'Growth' ELSE 'Enterprise' END AS plan_tier,
          ['Avery Lee','Blake Chen','Casey Diaz','Devon Patel','Emery Novak'][1 + (i % 5)] AS csm_owner,
          random() AS r1, random() AS r2, random() AS r3
        FROM range(1, ${customers} + 1) t(i)
      ), scored AS (
        SELECT *,
          round(CASE plan_tier WHEN 'Starter' THEN 3000 + r1 * 12000 WHEN 'Growth' THEN 15000 + r1 * 65000 ELSE 80000 + r1 * 400000 END, 0) AS arr,
          round(100 * (1 - power(r2, 0.8)), 1) AS risk_score
        FROM base
      )
      SELECT customer_id, company_name, industry, company_size, plan_tier, csm_owner,
        arr::DOUBLE AS arr,
        (5 + floor(r3 * 200))::INTEGER AS seats_purchased,
        (DATE '2026-11-20' + to_days((10 + floor(r3 * 350))::INTEGER))::DATE AS renewal_date,
        (10 + floor(r3 * 350))::INTEGER AS days_to_renewal,
        CASE WHEN r3 < 0.15 THEN 'Onboarding' WHEN r3 < 0.85 THEN 'Adopted' ELSE 'Renewal' END AS lifecycle_stage,
        floor((1 - risk_score / 100) * 400)::INTEGER AS events_last_30d,
        (100 - risk_score)::DOUBLE AS health_score,
        risk_score::DOUBLE AS risk_score,
        CASE WHEN risk_score >= 80 THEN 'Critical' WHEN risk_score >= 60 THEN 'High' WHEN risk_score >= 40 THEN 'Medium' ELSE 'Low' END AS risk_tier,
        CASE WHEN risk_score >= 60 THEN 'Red' WHEN risk_score >= 40 THEN 'Yellow' ELSE 'Green' END AS health_colour,
        (floor((1 - risk_score / 100) * 400) < 5) AS low_events,
        (r1 < 0.08) AS support_overload,
        (r3 < 0.15 AND r2 > 0.5) AS onboarding_at_risk,
        CASE WHEN risk_score >= 80 THEN 'CRITICAL — escalate same day, EBR within 7 days'
             WHEN risk_score >= 60 THEN 'HIGH RISK — outreach within 48 hours'
             WHEN risk_score >= 40 THEN 'MEDIUM — add to watch list, next weekly review'
             ELSE 'LOW — standard success cadence' END AS recommended_action,
        'usage_level, support_load' AS top_risk_drivers,
        round(arr * risk_score / 100, 2)::DOUBLE AS arr_at_risk,
        'contact' || i || '@example.com' AS primary_contact_email
      FROM scored`);
    await c.run(`
      CREATE TABLE marts.build_info AS
      SELECT TIMESTAMP '2026-11-20 04:00:00' AS built_at, DATE '2026-11-20' AS as_of,
             'test fixture' AS source, ${customers}::INTEGER AS customers`);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
  await rename(tmp, file);
  await rm(`${tmp}.wal`, { force: true });
  return file;
}
