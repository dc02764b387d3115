/**
 * Alert delivery benchmark: deliveries per second from the outbox to a local receiver on
 * 127.0.0.1 (signed, verified, de-duplicated by the receiver), and the time to drain a
 * 10,000-alert outbox once the target recovers from an outage. The lead wires it into
 * bench/run.ts; `npx tsx bench/alerts.ts` runs it alone.
 */
import {isMainModule} from "../loaders/cli/command.ts";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {drainOutbox} from "../loaders/alerts/deliver.ts";
import {enqueue, type NewMessage} from "../loaders/alerts/outbox.ts";
import {eventOfAlert, messageIdOf} from "../loaders/alerts/payloads.ts";
import {newSecret, type AlertTarget} from "../loaders/alerts/targets.ts";
import type {AlertRow} from "../loaders/cta.ts";
import {startReceiver} from "../tests/helpers/receiver.ts";

function alerts(prefix: string, n: number, target: string): NewMessage[] {
  return Array.from({length: n}, (_, i): NewMessage => {
    const row: AlertRow = {
      alert_id: `${prefix}${i}`,
      raised_on: "2026-07-01",
      previous_as_of: "2026-06-30",
      kind: "tier_entered",
      customer_id: `C${i}`,
      company_name: `Bench Account ${i}`,
      csm_owner: "Casey Kim",
      plan_tier: "Growth",
      risk_tier: "High",
      previous_risk_tier: "Medium",
      risk_score: 66,
      health_score: 34,
      previous_health_score: 52,
      health_colour: "Red",
      arr: 42_000,
      arr_at_risk: 27_720,
      renewal_date: "2026-08-15",
      days_to_renewal: 45,
      top_risk_drivers: "usage_level, support_load",
      recommended_action: "HIGH RISK — outreach within 48 hours",
      summary: `Bench Account ${i} entered High risk (was Medium).`,
    };
    return {id: messageIdOf(row.alert_id), target, event: eventOfAlert(row)};
  });
}

export async function benchAlerts(): Promise<{deliveriesPerSecond: number; drain10kSeconds: number}> {
  const root = mkdtempSync(join(tmpdir(), "saasguard-bench-alerts-"));
  const secret = newSecret();
  const receiver = await startReceiver({secret});
  const target: AlertTarget = {name: "bench", url: receiver.url, format: "slack", secret, enabled: true};
  try {
    // 1. steady state: 2,000 alerts to a healthy target
    const steady = join(root, "steady");
    await enqueue(steady, alerts("s", 2000, target.name));
    const t0 = performance.now();
    const r1 = await drainOutbox({outboxDir: steady, targets: [target]});
    const deliveriesPerSecond = r1.delivered / ((performance.now() - t0) / 1000);
    if (r1.delivered !== 2000) throw new Error(`bench: delivered ${r1.delivered} of 2000`);

    // 2. outage: 10,000 alerts pile up while the target answers 503, then it recovers
    const outage = join(root, "outage");
    await enqueue(outage, alerts("o", 10_000, target.name));
    receiver.mode = {kind: "status", status: 503};
    const down = await drainOutbox({
      outboxDir: outage,
      targets: [target],
      settings: {backoffBaseMs: 50, backoffMaxMs: 200},
      deadlineMs: 1000,
    });
    if (down.delivered !== 0 || down.pending !== 10_000)
      throw new Error(`bench: expected 10,000 pending during the outage, got ${down.pending}`);
    receiver.mode = {kind: "ok"};
    const t1 = performance.now();
    const r2 = await drainOutbox({outboxDir: outage, targets: [target]});
    const drain10kSeconds = (performance.now() - t1) / 1000;
    if (r2.delivered !== 10_000 || receiver.processed.size !== 12_000)
      throw new Error(`bench: drained ${r2.delivered} of 10,000 (receiver processed ${receiver.processed.size})`);
    return {deliveriesPerSecond, drain10kSeconds};
  } finally {
    await receiver.close();
    rmSync(root, {recursive: true, force: true});
  }
}

if (isMainModule(import.meta.url)) {
  const r = await benchAlerts();
  console.log(JSON.stringify(r));
}
