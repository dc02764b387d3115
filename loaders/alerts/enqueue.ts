/**
 * Turns tonight's alerts (marts.mart_alert_history rows raised on the warehouse's as-of date) into
 * outbox deliveries, one per alert and enabled target — and tonight's weekly digest of the
 * executive brief (marts.mart_brief_digests, digest.ts), when the build raised one.
 *
 * Idempotent: message ids are derived from alert ids, and the outbox ignores keys it already
 * holds, so the build and every `npm run alerts` may call it on the same warehouse — which is
 * what closes the gap if the build dies between publishing the warehouse and enqueuing.
 */
import {existsSync} from "node:fs";
import {tonightsAlerts} from "../cta.ts";
import {all, openWarehouse} from "../duckdb.ts";
import {digestMessageIdOf, eventOfDigest, tonightsDigests} from "./digest.ts";
import {enqueue, type NewMessage} from "./outbox.ts";
import {eventOfAlert, messageIdOf} from "./payloads.ts";
import type {AlertTarget} from "./targets.ts";

export interface EnqueueResult {
  alerts: number;
  /** weekly digests of the executive brief (0 or 1) */
  digests: number;
  messages: number;
}

export async function enqueueWarehouseAlerts(opts: {
  warehouse: string;
  outboxDir: string;
  targets: readonly AlertTarget[];
}): Promise<EnqueueResult> {
  if (!existsSync(opts.warehouse)) return {alerts: 0, digests: 0, messages: 0};
  const w = await openWarehouse(opts.warehouse, {readOnly: true});
  try {
    const has = await all<{n: number; digests: number}>(
      w.conn,
      "SELECT count(*) FILTER (WHERE table_name <> 'mart_brief_digests') AS n, count(*) FILTER (WHERE table_name = 'mart_brief_digests') AS digests FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name IN ('mart_alert_history', 'build_info', 'mart_brief_digests')",
    );
    if (has[0]!.n < 2) return {alerts: 0, digests: 0, messages: 0}; // a warehouse built before alerts existed
    const rows = await tonightsAlerts(w.conn);
    // a warehouse built before the executive brief has no digests
    const digests = has[0]!.digests ? await tonightsDigests(w.conn) : [];
    const enabled = opts.targets.filter((t) => t.enabled);
    const messages: NewMessage[] = [
      ...rows.flatMap((r) =>
        enabled.map((t) => ({id: messageIdOf(r.alert_id), target: t.name, event: eventOfAlert(r)})),
      ),
      ...digests.flatMap((d) =>
        enabled.map((t) => ({id: digestMessageIdOf(d.digest_id), target: t.name, event: eventOfDigest(d)})),
      ),
    ];
    await enqueue(opts.outboxDir, messages);
    return {alerts: rows.length, digests: digests.length, messages: messages.length};
  } finally {
    w.close();
  }
}
