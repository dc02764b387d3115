/**
 * Turns tonight's alerts (marts.mart_alert_history rows raised on the warehouse's as-of date) into
 * outbox deliveries, one per alert and enabled target.
 *
 * Idempotent: message ids are derived from alert ids, and the outbox ignores keys it already
 * holds, so the build and every `npm run alerts` may call it on the same warehouse — which is
 * what closes the gap if the build dies between publishing the warehouse and enqueuing.
 */
import {existsSync} from "node:fs";
import {tonightsAlerts} from "../cta.ts";
import {all, openWarehouse} from "../duckdb.ts";
import {enqueue} from "./outbox.ts";
import {eventOfAlert, messageIdOf} from "./payloads.ts";
import type {AlertTarget} from "./targets.ts";

export interface EnqueueResult {
  alerts: number;
  messages: number;
}

export async function enqueueWarehouseAlerts(opts: {
  warehouse: string;
  outboxDir: string;
  targets: readonly AlertTarget[];
}): Promise<EnqueueResult> {
  if (!existsSync(opts.warehouse)) return {alerts: 0, messages: 0};
  const w = await openWarehouse(opts.warehouse, {readOnly: true});
  try {
    const has = await all<{n: number}>(
      w.conn,
      "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name IN ('mart_alert_history', 'build_info')",
    );
    if (has[0]!.n < 2) return {alerts: 0, messages: 0}; // a warehouse built before alerts existed
    const rows = await tonightsAlerts(w.conn);
    const enabled = opts.targets.filter((t) => t.enabled);
    const messages = rows.flatMap((r) =>
      enabled.map((t) => ({id: messageIdOf(r.alert_id), target: t.name, event: eventOfAlert(r)})),
    );
    await enqueue(opts.outboxDir, messages);
    return {alerts: rows.length, messages: messages.length};
  } finally {
    w.close();
  }
}
