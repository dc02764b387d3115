/**
 * `npm run alerts [-- options]`: delivers the pending churn alerts to the configured webhooks.
 *
 * By default it first enqueues tonight's alerts from the published warehouse (a no-op for
 * alerts already in the outbox), then drains the outbox until everything is delivered or
 * nothing more is due before the deadline. Exit code 0 when nothing is left pending or newly
 * dead-lettered, 3 otherwise (so nightly CI notices a target that is down), 2 on a usage error,
 * 1 on other errors.
 *
 *   --outbox DIR            outbox directory (default data/outbox)
 *   --warehouse FILE        warehouse to enqueue tonight's alerts from (default data/warehouse.duckdb)
 *   --no-enqueue            only deliver what is already in the outbox
 *   --targets FILE          webhook targets JSON (default: $SAASGUARD_WEBHOOKS, else alerts.targets.json)
 *   --deadline-seconds N    stop after N s (default playbooks.alerting.delivery.drainDeadlineMs)
 *   --list-dead             print the dead letters and exit
 *   --replay-dead all|IDS   move dead letters back to pending (all, or comma-separated ids) and deliver
 *   --test TARGET           send one test alert to TARGET now and print its answer
 *   --max-attempts N, --backoff-base-ms N, --backoff-max-ms N, --timeout-ms N, --concurrency N
 *                           override playbooks.alerting.delivery for this run
 */
import {resolve} from "node:path";
import {parseCommandArgs, runCommand, UsageError} from "./command.ts";
import {drainOutbox, sendTestAlert, type DeliverySettings} from "../alerts/deliver.ts";
import {enqueueWarehouseAlerts} from "../alerts/enqueue.ts";
import {readOutbox, replayDeadLetters} from "../alerts/outbox.ts";
import {loadTargets} from "../alerts/targets.ts";

const USAGE =
  "usage: npm run alerts -- [--outbox DIR] [--warehouse FILE] [--no-enqueue] [--targets FILE] [--deadline-seconds N] [--list-dead] [--replay-dead all|IDS] [--test TARGET] [--max-attempts N] [--backoff-base-ms N] [--backoff-max-ms N] [--timeout-ms N] [--concurrency N]";

const parse = () =>
  parseCommandArgs({
    options: {
      outbox: {type: "string", default: "data/outbox"},
      warehouse: {type: "string", default: "data/warehouse.duckdb"},
      "no-enqueue": {type: "boolean", default: false},
      targets: {type: "string"},
      "deadline-seconds": {type: "string"},
      "list-dead": {type: "boolean", default: false},
      "replay-dead": {type: "string"},
      test: {type: "string"},
      "max-attempts": {type: "string"},
      "backoff-base-ms": {type: "string"},
      "backoff-max-ms": {type: "string"},
      "timeout-ms": {type: "string"},
      concurrency: {type: "string"},
    },
    strict: true,
  });
let values: ReturnType<typeof parse>["values"];

function positive(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag}: "${v}" must be a positive number`);
  return n;
}

async function main(): Promise<number> {
  values = parse().values;
  const outboxDir = resolve(values.outbox);
  const log = (line: string) => console.error(`[alerts] ${line}`);

  if (values["list-dead"]) {
    const dead = [...(await readOutbox(outboxDir)).values()].filter((e) => e.status === "dead");
    for (const e of dead)
      console.log(`${e.key}\t${e.attempts} attempt(s)\t${new Date(e.doneAt ?? 0).toISOString()}\t${e.lastError ?? ""}`);
    log(`${dead.length} dead letter(s) in ${outboxDir}`);
    return 0;
  }

  const {targets, source} = loadTargets(values.targets !== undefined ? {file: values.targets} : {});
  if (values.test !== undefined) {
    const t = targets.find((x) => x.name === values.test);
    if (!t)
      throw new UsageError(
        `--test: no target named "${values.test}" (configured: ${targets.map((x) => x.name).join(", ") || "none"})`,
      );
    const r = await sendTestAlert(t);
    console.log(JSON.stringify(r));
    return r.ok ? 0 : 3;
  }
  if (!targets.length)
    log(
      `no webhook targets configured (set SAASGUARD_WEBHOOKS or create alerts.targets.json): alerts stay in marts.mart_alert_history`,
    );
  else log(`${targets.length} target(s) from ${source}`);

  if (values["replay-dead"] !== undefined) {
    const which =
      values["replay-dead"] === "" || values["replay-dead"] === "all"
        ? "all"
        : values["replay-dead"].split(",").map((x) => x.trim());
    const keys = await replayDeadLetters(outboxDir, which);
    log(`replaying ${keys.length} dead letter(s)`);
  }

  if (!values["no-enqueue"] && targets.length) {
    const r = await enqueueWarehouseAlerts({warehouse: resolve(values.warehouse), outboxDir, targets});
    if (r.alerts || r.digests)
      log(
        `${r.alerts} alert(s)${r.digests ? " and the weekly digest" : ""} of tonight's build → ${r.messages} delivery(ies) offered to the outbox`,
      );
  }

  const settings: Partial<DeliverySettings> = {};
  const set = <K extends keyof DeliverySettings>(k: K, flag: string, v: string | undefined) => {
    const n = positive(flag, v);
    if (n !== undefined) settings[k] = n;
  };
  set("maxAttempts", "max-attempts", values["max-attempts"]);
  set("backoffBaseMs", "backoff-base-ms", values["backoff-base-ms"]);
  set("backoffMaxMs", "backoff-max-ms", values["backoff-max-ms"]);
  set("requestTimeoutMs", "timeout-ms", values["timeout-ms"]);
  set("concurrency", "concurrency", values.concurrency);
  const deadline = positive("deadline-seconds", values["deadline-seconds"]);
  const r = await drainOutbox({outboxDir, targets, settings, log, ...(deadline ? {deadlineMs: deadline * 1000} : {})});
  log(
    `delivered ${r.delivered}, failed attempts ${r.failedAttempts}, dead-lettered ${r.deadLettered}, still pending ${r.pending} (${r.seconds.toFixed(1)} s)`,
  );
  console.log(JSON.stringify(r));
  return r.pending > 0 || r.deadLettered > 0 ? 3 : 0;
}

await runCommand({name: "alerts", usage: USAGE}, main);
process.exit();
