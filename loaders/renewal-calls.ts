/**
 * The CSMs' calls on renewals beside the model's view — the one definition the build (for the
 * pages) and the API (live) read: where a call and the churn horizon model disagree, and which
 * renewals are due a call at the checkpoint reviews (config.renewalCalls).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {config} from "../src/rules/config.ts";
import {all, writeTable} from "./duckdb.ts";
import {HORIZONS, HORIZON_MONTHLY, OUTLOOK_QUARTERS} from "./forecast-tables.ts";
import type {MartChecks} from "./quality.ts";
import type {OperationalStore, RenewalCall, RenewalCallKind} from "./store/types.ts";

export const RENEWAL_CALLS_MART = "marts.mart_renewal_calls";

/** "hopeful": the CSM calls commit or likely where the model sees much churn; "worried": the reverse. */
export type CallDisagreement = "hopeful" | "worried";

export function callDisagreement(call: RenewalCallKind, churnBeforeRenewal: number): CallDisagreement | null {
  const rc = config.renewalCalls;
  if ((call === "commit" || call === "likely") && churnBeforeRenewal >= rc.hopefulAbove) return "hopeful";
  if ((call === "at_risk" || call === "lost") && churnBeforeRenewal < rc.worriedBelow) return "worried";
  return null;
}

const DAY_MS = 86_400_000;
const dayNumber = (d: string) => Math.floor(Date.parse(`${d.slice(0, 10)}T00:00:00Z`) / DAY_MS);

/**
 * The checkpoint a renewal has passed (the nearest, in days before it), and whether a call is
 * due: none yet, or the latest was made before that checkpoint.
 */
export function checkpointOf(
  renewalDate: string,
  today: string,
  lastCallAt: string | null,
): {checkpoint_days: number | null; call_due: boolean} {
  const left = dayNumber(renewalDate) - dayNumber(today);
  const passed = config.renewalCalls.checkpointsDays.filter((d) => left <= d);
  const checkpoint = passed.length ? passed[passed.length - 1]! : null;
  if (checkpoint === null || left < 0) return {checkpoint_days: checkpoint, call_due: false};
  const due = lastCallAt === null || dayNumber(lastCallAt) < dayNumber(renewalDate) - checkpoint;
  return {checkpoint_days: checkpoint, call_due: due};
}

export interface UpcomingRenewal {
  customer_id: string;
  company_name: string;
  renewal_date: string;
  outlook_quarter: number;
  arr: number;
  csm_owner: string | null;
  churn_before_renewal: number;
}

/** The renewals of the four outlook quarters: each account's next, with the model's churn before it. */
export const UPCOMING_RENEWALS_SQL = `SELECT r.customer_id, r.company_name, CAST(r.renewal_date AS VARCHAR) AS renewal_date, m.outlook_quarter,
       r.arr::DOUBLE AS arr, r.csm_owner, h.churn_before_renewal
FROM marts.mart_customer_risk_scores r JOIN ${HORIZONS} h USING (customer_id)
JOIN ${HORIZON_MONTHLY} m ON m.customer_id = r.customer_id AND m.renews_in_period
WHERE m.outlook_quarter <= ${OUTLOOK_QUARTERS} ORDER BY r.renewal_date, r.customer_id`;

/** What the view needs of a call: the store's, or one the demo's CS team made. */
export type CallOnRenewal = Pick<RenewalCall, "customer_id" | "renewal_date" | "call" | "actor" | "at">;

/**
 * The calls the demo portfolio's simulated CSMs made before the store existed (written by the
 * synthetic generator; an installation's calls are all in the store).
 */
export const DEMO_CALLS_TABLE = "demo.renewal_calls";

/** The demo's calls when the warehouse has them (`query` runs SQL on the warehouse), else none. */
export async function demoCalls(query: (sql: string) => Promise<Record<string, unknown>[]>): Promise<CallOnRenewal[]> {
  const [has] = await query(
    "SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'demo' AND table_name = 'renewal_calls'",
  );
  if (!Number(has?.n)) return [];
  return (await query(
    `SELECT customer_id, CAST(renewal_date AS VARCHAR) AS renewal_date, call, actor, strftime(called_at, '%Y-%m-%dT%H:%M:%S.000Z') AS "at"
     FROM ${DEMO_CALLS_TABLE}`,
  )) as unknown as CallOnRenewal[];
}

/**
 * Each upcoming renewal with its latest call (when it is on this renewal; of several, the newest),
 * the disagreement and the checkpoint.
 */
export function renewalCallView(renewals: readonly UpcomingRenewal[], calls: readonly CallOnRenewal[], today: string) {
  const latest = new Map<string, CallOnRenewal>();
  for (const c of calls) {
    const key = `${c.customer_id}\u0000${c.renewal_date}`;
    const had = latest.get(key);
    if (!had || had.at < c.at) latest.set(key, c);
  }
  return renewals.map((r) => {
    const c = latest.get(`${r.customer_id}\u0000${r.renewal_date}`) ?? null;
    return {
      ...r,
      call: c?.call ?? null,
      called_by: c?.actor ?? null,
      called_at: c?.at ?? null,
      disagreement: c ? callDisagreement(c.call, r.churn_before_renewal) : null,
      ...checkpointOf(r.renewal_date, today, c?.at ?? null),
    };
  });
}

/** Writes RENEWAL_CALLS_MART from the store's latest calls (the notes stay in the store). */
export async function writeRenewalCalls(
  conn: DuckDBConnection,
  store: OperationalStore,
  asOf: string,
  log: (m: string) => void,
): Promise<void> {
  const renewals = await all<UpcomingRenewal>(conn, UPCOMING_RENEWALS_SQL);
  const calls = [
    ...(await demoCalls((sql) => all(conn, sql))),
    ...(await store.latestRenewalCalls(renewals.map((r) => r.customer_id))),
  ];
  const view = renewalCallView(renewals, calls, asOf);
  await writeTable(
    conn,
    RENEWAL_CALLS_MART,
    {
      customer_id: "VARCHAR",
      renewal_date: "VARCHAR",
      outlook_quarter: "INTEGER",
      arr: "DOUBLE",
      csm_owner: "VARCHAR",
      churn_before_renewal: "DOUBLE",
      call: "VARCHAR",
      called_by: "VARCHAR",
      called_at: "VARCHAR",
      disagreement: "VARCHAR",
      checkpoint_days: "INTEGER",
      call_due: "BOOLEAN",
    },
    view.map((v) => [
      v.customer_id,
      v.renewal_date,
      v.outlook_quarter,
      v.arr,
      v.csm_owner,
      v.churn_before_renewal,
      v.call,
      v.called_by,
      v.called_at,
      v.disagreement,
      v.checkpoint_days,
      v.call_due,
    ]),
  );
  await conn.run(`ALTER TABLE ${RENEWAL_CALLS_MART} ALTER renewal_date TYPE DATE`);
  const called = view.filter((v) => v.call !== null).length;
  log(
    `renewal calls: ${called} of ${view.length} upcoming renewals called, ${view.filter((v) => v.disagreement).length} disagree with the model, ${view.filter((v) => v.call_due).length} due a call at their checkpoint (as of ${asOf})`,
  );
}

export const RENEWAL_CALL_CHECKS: readonly MartChecks[] = [
  {
    table: RENEWAL_CALLS_MART,
    unique: ["customer_id"],
    notNull: ["customer_id", "renewal_date", "outlook_quarter", "arr", "churn_before_renewal", "call_due"],
    accepted: {call: ["commit", "likely", "at_risk", "lost"], disagreement: ["hopeful", "worried"]},
    ranges: {outlook_quarter: [1, OUTLOOK_QUARTERS], churn_before_renewal: [0, 1]},
  },
];
