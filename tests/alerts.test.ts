/**
 * Signed webhook alerts with a durable outbox, against a real receiver on 127.0.0.1 that
 * fails, rate-limits, hangs and recovers — and a sender process killed mid-delivery.
 */
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, afterEach, describe, expect, it} from "vitest";
import {config} from "../src/rules/config.ts";
import {playbooks, validatePlaybooks} from "../src/rules/playbooks.ts";
import {backoffMs, drainOutbox, parseRetryAfter, sendTestAlert} from "../loaders/alerts/deliver.ts";
import {enqueue, Outbox, readOutbox, replayDeadLetters, type NewMessage} from "../loaders/alerts/outbox.ts";
import {bodyFor, eventOfAlert, messageIdOf, slackPayload, type AlertEvent} from "../loaders/alerts/payloads.ts";
import {sign, webhookHeaders} from "../loaders/alerts/signing.ts";
import {loadTargets, newSecret, parseTargets, type AlertTarget} from "../loaders/alerts/targets.ts";
import type {AlertRow} from "../loaders/cta.ts";
import {computeSignature, verifyWebhook, WebhookVerificationError} from "../server/webhook-verify.ts";
import {startReceiver, type Receiver} from "./helpers/receiver.ts";

const root = mkdtempSync(join(tmpdir(), "saasguard-alerts-"));
let n = 0;
const freshDir = () => join(root, `outbox-${++n}`);
const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

function alertRow(i: number): AlertRow {
  return {
    alert_id: `a${String(i).padStart(5, "0")}`,
    raised_on: "2026-07-01",
    previous_as_of: "2026-06-30",
    kind: (["tier_entered", "health_drop", "renewal_at_risk"] as const)[i % 3]!,
    customer_id: `C${i}`,
    company_name: `Acme <${i}> & Co`,
    csm_owner: "Casey Kim",
    plan_tier: "Growth",
    risk_tier: "High",
    previous_risk_tier: "Medium",
    risk_score: 66.2,
    health_score: 33.8,
    previous_health_score: 52.1,
    health_colour: "Red",
    arr: 42_000,
    arr_at_risk: 27_804,
    renewal_date: "2026-08-15",
    days_to_renewal: 45,
    top_risk_drivers: "usage_level, support_load",
    recommended_action: "HIGH RISK — outreach within 48 hours",
    summary: `Acme <${i}> & Co entered High risk (was Medium).`,
  };
}

function messages(count: number, targets: readonly AlertTarget[]): NewMessage[] {
  return Array.from({length: count}, (_, i) => alertRow(i)).flatMap((r) =>
    targets.map((t) => ({id: messageIdOf(r.alert_id), target: t.name, event: eventOfAlert(r)})),
  );
}

async function receiverTarget(
  name: string,
  format: "slack" | "generic",
  opts: Omit<Parameters<typeof startReceiver>[0], "secret"> = {},
): Promise<{r: Receiver; t: AlertTarget}> {
  const secret = newSecret();
  const r = await startReceiver({...opts, secret});
  receivers.push(r);
  return {r, t: {name, url: r.url, format, secret, enabled: true}};
}

const fast = {backoffBaseMs: 40, backoffMaxMs: 400, requestTimeoutMs: 300, maxAttempts: 8};

describe("signatures (Standard Webhooks style) and the receivers' verification helper", () => {
  const secret = newSecret();
  const body = JSON.stringify({type: "customer.risk_tier_entered", data: {x: 1}});
  const headers = webhookHeaders(secret, "msg_1", body);

  it("verifies a genuine delivery and returns its id and payload", () => {
    const v = verifyWebhook(secret, body, headers);
    expect(v.id).toBe("msg_1");
    expect(v.payload).toEqual(JSON.parse(body));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // the same bytes as the sender computes, and as the spec's formula over id.timestamp.body
    expect(computeSignature(secret, "msg_1", headers["webhook-timestamp"]!, body)).toBe(headers["webhook-signature"]);
    // works with a fetch Headers object and with Node's lower-cased header record alike
    expect(verifyWebhook(secret, Buffer.from(body), new Headers(headers)).id).toBe("msg_1");
  });

  it("rejects a tampered body, a wrong secret, a stale or future timestamp, and missing headers", () => {
    const reject = (f: () => unknown, msg: RegExp) => {
      expect(f).toThrow(WebhookVerificationError);
      expect(f).toThrow(msg);
    };
    reject(() => verifyWebhook(secret, body.replace("1", "2"), headers), /no valid signature/);
    reject(() => verifyWebhook(newSecret(), body, headers), /no valid signature/);
    reject(() => verifyWebhook(secret, body, {...headers, "webhook-id": "msg_2"}), /no valid signature/);
    const old = Date.now() - 10 * 60_000;
    const stale = webhookHeaders(secret, "msg_1", body, old);
    reject(() => verifyWebhook(secret, body, stale), /stale/);
    reject(() => verifyWebhook(secret, body, webhookHeaders(secret, "msg_1", body, Date.now() + 10 * 60_000)), /stale/);
    expect(verifyWebhook(secret, body, stale, {now: old + 1000}).id).toBe("msg_1"); // fine at its own time
    reject(
      () => verifyWebhook(secret, body, {"webhook-id": "msg_1", "webhook-timestamp": headers["webhook-timestamp"]}),
      /missing/,
    );
  });

  it("accepts any one valid signature among several (secret rotation)", () => {
    const ts = Number(headers["webhook-timestamp"]);
    const other = sign(newSecret(), "msg_1", ts, body);
    expect(
      verifyWebhook(secret, body, {...headers, "webhook-signature": `${other} ${headers["webhook-signature"]}`}).id,
    ).toBe("msg_1");
  });
});

describe("targets configuration", () => {
  it("validates with clear errors naming the JSON path", () => {
    const secret = newSecret();
    expect(() => parseTargets({targets: [{name: "a", url: "ftp://x", secret}]}, "alerts.targets.json")).toThrow(
      /alerts\.targets\.json: invalid webhook targets\n {2}targets\.0\.url: must be an http\(s\) URL/,
    );
    expect(() => parseTargets([{name: "a", url: "http://x", secret: "nope"}], "f.json")).toThrow(
      /0\.secret: must look like "whsec_"/,
    );
    expect(() => parseTargets([{name: "a", url: "http://x"}], "f.json")).toThrow(
      /exactly one of "secret" or "secretEnv"/,
    );
    expect(() => parseTargets([{name: "a", url: "http://x", secretEnv: "NOPE_UNSET"}], "f.json", {})).toThrow(
      /NOPE_UNSET is not set/,
    );
    expect(() =>
      parseTargets(
        [
          {name: "a", url: "http://x", secret},
          {name: "a", url: "http://y", secret},
        ],
        "f.json",
      ),
    ).toThrow(/duplicate target name/);
    expect(() => parseTargets([{name: "a", url: "http://x", secret, colour: "red"}], "f.json")).toThrow(
      /Unrecognized key/,
    );
    const [t] = parseTargets([{name: "crm", url: "http://x/h", secretEnv: "CRM_SECRET"}], "f.json", {
      CRM_SECRET: secret,
    });
    expect(t).toEqual({name: "crm", url: "http://x/h", format: "generic", secret, enabled: true});
  });

  it("reads SAASGUARD_WEBHOOKS first, else the JSON file", () => {
    const secret = newSecret();
    expect(() => loadTargets({env: {SAASGUARD_WEBHOOKS: "{not json"}})).toThrow(/SAASGUARD_WEBHOOKS: not valid JSON/);
    expect(
      loadTargets({
        env: {
          SAASGUARD_WEBHOOKS: JSON.stringify([{name: "s", url: "https://hooks.example/x", format: "slack", secret}]),
        },
      }).targets[0]!.format,
    ).toBe("slack");
    const file = join(root, "targets.json");
    writeFileSync(file, JSON.stringify({targets: [{name: "f", url: "http://127.0.0.1:1/x", secret}]}));
    expect(loadTargets({file, env: {}}).targets.map((t) => t.name)).toEqual(["f"]);
    expect(() => loadTargets({file: join(root, "missing.json"), env: {}})).toThrow(/not found/);
    expect(
      loadTargets({env: {SAASGUARD_ALERT_TARGETS: undefined}}).source === null || existsSync("alerts.targets.json"),
    ).toBe(true);
  });
});

describe("payloads", () => {
  it("Slack format is incoming-webhook JSON {text, blocks} with mrkdwn escaped; generic is {type, timestamp, data}", () => {
    const e = eventOfAlert(alertRow(1));
    const slack = slackPayload(e);
    expect(Object.keys(slack).sort()).toEqual(["blocks", "text"]);
    expect(slack.text).toContain("Acme &lt;1&gt; &amp; Co");
    expect(slack.blocks[0]).toEqual({
      type: "header",
      text: {type: "plain_text", text: "Health score drop: Acme <1> & Co"},
    }); // plain_text: no escaping
    const generic = JSON.parse(bodyFor("generic", e)) as AlertEvent;
    expect(generic.type).toBe("customer.health_score_dropped");
    expect(generic.timestamp).toBe("2026-07-01T00:00:00Z");
    expect(generic.data.arr_at_risk).toBe(27_804);
  });

  it("carries only an allow-list of fields: an extra PII column in the row never reaches the wire", () => {
    const row = {...alertRow(2), primary_contact_email: "ceo@acme.example"} as AlertRow;
    for (const f of ["slack", "generic"] as const) expect(bodyFor(f, eventOfAlert(row))).not.toContain("@");
  });

  it("backoff grows exponentially with ±50 % jitter and is capped; Retry-After reads seconds and dates", () => {
    const s = {backoffBaseMs: 1000, backoffMaxMs: 60_000};
    expect([1, 2, 3, 4].map((k) => backoffMs(k, s, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(3, s, () => 0)).toBe(2000);
    expect(backoffMs(3, s, () => 0.999)).toBeLessThan(6000);
    expect(backoffMs(20, s, () => 0.5)).toBe(60_000);
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("the playbooks module is consistent", () => {
    expect(validatePlaybooks(playbooks, config)).toEqual([]);
    // a hand edit that breaks the rules is caught with the path of the bad value
    const broken = {...playbooks, ctaRules: [...playbooks.ctaRules, {...playbooks.ctaRules[0]!, stepId: "nope"}]};
    expect(validatePlaybooks(broken, config).join("\n")).toMatch(
      /ctaRules\[10\]\.stepId: "nope" is not a step of critical_risk[\s\S]*duplicate type\+reason/,
    );
    expect(playbooks.alerting.delivery.maxAttempts).toBeGreaterThan(1);
  });
});

describe("delivery through the outbox", () => {
  it("every alert arrives and is acknowledged exactly once, through 500s, a 429 with Retry-After and hangs", async () => {
    const slack = await receiverTarget("slack", "slack", {
      script: [
        {kind: "status", status: 500},
        {kind: "status", status: 503},
        {kind: "hang"},
        {kind: "status", status: 429, retryAfter: "1"},
        {kind: "hang"},
      ],
    });
    const crm = await receiverTarget("crm", "generic", {
      script: [
        {kind: "status", status: 429, retryAfter: "1"},
        {kind: "status", status: 502},
      ],
    });
    const dir = freshDir();
    const count = 40;
    await enqueue(dir, messages(count, [slack.t, crm.t]));
    const report = await drainOutbox({outboxDir: dir, targets: [slack.t, crm.t], settings: fast, deadlineMs: 60_000});

    expect(report).toMatchObject({delivered: 2 * count, deadLettered: 0, pending: 0});
    for (const {r} of [slack, crm]) {
      expect(r.processed.size).toBe(count);
      expect([...r.processed.keys()].sort()).toEqual(
        Array.from({length: count}, (_, i) => messageIdOf(alertRow(i).alert_id)).sort(),
      );
      expect(r.rejected).toBe(0);
    }
    expect(slack.r.log.map((d) => d.outcome).slice(0, 5)).toEqual(["status", "status", "hang", "status", "hang"]);
    // the payload each receiver got is its format
    expect(Object.keys(slack.r.processed.values().next().value as object).sort()).toEqual(["blocks", "text"]);
    expect((crm.r.processed.values().next().value as AlertEvent).type).toMatch(/^customer\./);
    // nothing left, and a second drain sends nothing again
    const again = await drainOutbox({outboxDir: dir, targets: [slack.t, crm.t], settings: fast});
    expect(again.delivered).toBe(0);
    expect(slack.r.processed.size + crm.r.processed.size).toBe(2 * count);
  });

  it("honours 429 Retry-After: the target gets nothing until the time is up", async () => {
    const {r, t} = await receiverTarget("crm", "generic", {script: [{kind: "status", status: 429, retryAfter: "1"}]});
    const dir = freshDir();
    await enqueue(dir, messages(3, [t]));
    // one at a time, so no request is already in flight when the 429 comes back
    expect((await drainOutbox({outboxDir: dir, targets: [t], settings: {...fast, concurrency: 1}})).delivered).toBe(3);
    expect(r.log.map((d) => d.status)).toEqual([429, 200, 200, 200]);
    expect(r.log[1]!.at - r.log[0]!.at).toBeGreaterThanOrEqual(950);
    expect(r.log[1]!.id).toBe(r.log[0]!.id); // the same message, same webhook-id
  });

  it("enqueuing the same alerts again (a re-run build) sends nothing twice", async () => {
    const {r, t} = await receiverTarget("crm", "generic");
    const dir = freshDir();
    await enqueue(dir, messages(10, [t]));
    await drainOutbox({outboxDir: dir, targets: [t], settings: fast});
    await enqueue(dir, messages(12, [t])); // 10 old + 2 new
    const report = await drainOutbox({outboxDir: dir, targets: [t], settings: fast});
    expect(report.delivered).toBe(2);
    expect(r.processed.size).toBe(12);
    expect(r.duplicates).toBe(0);
  });

  it("dead-letters after the configured attempts (at once for a 4xx), keeps them, and an admin replay delivers them", async () => {
    const {r, t} = await receiverTarget("crm", "generic", {mode: {kind: "status", status: 500}});
    const gone = await receiverTarget("old", "generic", {mode: {kind: "status", status: 410}});
    const dir = freshDir();
    await enqueue(dir, [...messages(3, [t]), ...messages(1, [gone.t])]);
    const report = await drainOutbox({
      outboxDir: dir,
      targets: [t, gone.t],
      settings: {...fast, maxAttempts: 3},
      deadlineMs: 30_000,
    });
    expect(report.deadLettered).toBe(4);
    expect(gone.r.log).toHaveLength(1); // 410: not retried
    const state = await readOutbox(dir);
    const dead = [...state.values()].filter((e) => e.status === "dead");
    expect(dead).toHaveLength(4);
    expect(
      dead.filter((e) => e.target === "crm").every((e) => e.attempts === 3 && e.lastError === "HTTP 500: not now"),
    ).toBe(true);

    r.mode = {kind: "ok"};
    // by key, or by message id (which would also match the same alert for other targets)
    const replayed = await replayDeadLetters(dir, [
      `crm/${messageIdOf(alertRow(0).alert_id)}`,
      messageIdOf(alertRow(1).alert_id),
    ]);
    expect(replayed).toHaveLength(2);
    expect((await drainOutbox({outboxDir: dir, targets: [t, gone.t], settings: fast})).delivered).toBe(2);
    await replayDeadLetters(dir, "all");
    gone.r.mode = {kind: "ok"};
    expect((await drainOutbox({outboxDir: dir, targets: [t, gone.t], settings: fast})).delivered).toBe(2);
    expect(r.processed.size).toBe(3);
    expect([...(await readOutbox(dir)).values()].every((e) => e.status === "delivered")).toBe(true);
  });

  it("keeps deliveries for a target that is not configured, and refuses a second drainer", async () => {
    const {t} = await receiverTarget("crm", "generic");
    const dir = freshDir();
    await enqueue(dir, messages(2, [t, {...t, name: "removed"}]));
    const report = await drainOutbox({outboxDir: dir, targets: [t], settings: fast});
    expect(report).toMatchObject({delivered: 2, pending: 2, skipped: 2});
    const box = await Outbox.open(dir);
    try {
      await expect(drainOutbox({outboxDir: dir, targets: [t]})).rejects.toThrow(/being drained by process/);
    } finally {
      await box.close();
    }
  });

  it("a crash mid-append leaves a torn journal line that the next run drops", async () => {
    const {r, t} = await receiverTarget("crm", "generic");
    const dir = freshDir();
    await enqueue(dir, messages(3, [t]));
    const box = await Outbox.open(dir);
    await box.close();
    writeFileSync(
      join(dir, "journal.jsonl"),
      readFileSync(join(dir, "journal.jsonl"), "utf8") + '{"op":"delivered","key":"crm/msg_a0',
      {flag: "w"},
    );
    expect((await drainOutbox({outboxDir: dir, targets: [t], settings: fast})).delivered).toBe(3);
    expect(r.processed.size).toBe(3);
  });

  it("sendTestAlert delivers one signed test event and reports the answer", async () => {
    const {r, t} = await receiverTarget("slack", "slack");
    const ok = await sendTestAlert(t);
    expect(ok).toMatchObject({ok: true, status: 200, target: "slack"});
    expect(r.processed.has(ok.id)).toBe(true);
    r.mode = {kind: "status", status: 500};
    expect(await sendTestAlert(t)).toMatchObject({ok: false, status: 500});
    expect(await sendTestAlert({...t, secret: newSecret()}).then((x) => x.status)).toBe(500);
    r.mode = {kind: "ok"};
    expect(await sendTestAlert({...t, secret: newSecret()})).toMatchObject({ok: false, status: 401}); // wrong secret: the receiver rejects it
  });
});

describe("the sender process killed mid-delivery", () => {
  function runCli(args: string[], env: NodeJS.ProcessEnv = {}): {exit: Promise<number | null>; kill: () => void} {
    // detached = own process group, so SIGKILL reaches npx, tsx and node alike
    const child = spawn("npx", ["tsx", "loaders/cli/alerts.ts", ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {...process.env, ...env},
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    exit.then((code) => code !== 0 && code !== null && console.error(err));
    return {exit, kill: () => process.kill(-child.pid!, "SIGKILL")};
  }

  const isAlive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it("loses nothing: after SIGKILL and a restart every alert is processed exactly once", async () => {
    const {r, t} = await receiverTarget("crm", "generic", {delayMs: 15});
    const dir = freshDir();
    const count = 400;
    await enqueue(dir, messages(count, [t]));
    const targetsFile = join(root, "kill-targets.json");
    writeFileSync(targetsFile, JSON.stringify({targets: [{name: t.name, url: t.url, secret: t.secret}]}));
    const args = (timeoutMs: number) => [
      "--outbox",
      dir,
      "--targets",
      targetsFile,
      "--no-enqueue",
      "--concurrency",
      "4",
      "--backoff-base-ms",
      "50",
      "--timeout-ms",
      String(timeoutMs),
    ];

    const first = runCli(args(2000));
    await r.waitForProcessed(60, 60_000);
    first.kill();
    await first.exit;
    // npx exits first; wait until the node process holding the outbox lock is gone too
    const holder = Number(readFileSync(join(dir, "lock"), "utf8"));
    for (let i = 0; i < 200 && isAlive(holder); i++) await new Promise((ok) => setTimeout(ok, 25));
    const afterKill = r.processed.size;
    expect(afterKill).toBeLessThan(count); // it really died mid-drain
    expect((await readOutbox(dir)).size).toBe(count);

    // the target also misbehaves when the sender comes back
    r.script.push({kind: "status", status: 500}, {kind: "status", status: 429, retryAfter: "1"}, {kind: "hang"});
    const second = runCli(args(500));
    expect(await second.exit).toBe(0);
    expect(r.processed.size).toBe(count);
    expect(new Set(r.log.filter((d) => d.outcome === "processed").map((d) => d.id)).size).toBe(count);
    // re-sent after the kill at most what was in flight or not yet journalled
    expect(r.duplicates).toBeLessThan(60);
    const state = await readOutbox(dir);
    expect([...state.values()].every((e) => e.status === "delivered")).toBe(true);
    expect(existsSync(join(dir, "lock"))).toBe(false);
  });
});
