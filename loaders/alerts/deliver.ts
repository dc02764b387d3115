/**
 * Delivers the outbox: signed POSTs to each target, with retries that do not hammer a target
 * that is down.
 *
 * - 2xx: delivered. Anything else is a failed attempt; after `maxAttempts` it is dead-lettered
 *   (kept in the outbox; `replayDeadLetters` or `npm run alerts -- --replay-dead` sends it again).
 * - 429: the target asked us to slow down: the whole target pauses for Retry-After (seconds
 *   or an HTTP date, clamped to maxRetryAfterMs).
 * - 5xx, 408, network errors and time-outs: the target pauses for an exponential backoff with
 *   jitter (base × 2^(n−1), capped, ×0.5–1.5) and is then probed with one delivery at a time
 *   until one succeeds, so a target that is down costs one request per backoff step, not one
 *   per pending alert; then full concurrency resumes. Each run also starts every target with
 *   one delivery at a time until the first success.
 * - Other 4xx (bad URL, bad auth): retrying cannot help, so the delivery is dead-lettered at once.
 */
import {randomUUID} from "node:crypto";
import {Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders} from "node:http";
import {Agent as HttpsAgent, request as httpsRequest} from "node:https";
import {playbooks} from "../../src/rules/playbooks.ts";
import {Outbox, type OutboxEntry} from "./outbox.ts";
import {bodyFor, testEvent, type OutboxEvent} from "./payloads.ts";
import {webhookHeaders} from "./signing.ts";
import type {AlertTarget} from "./targets.ts";

export interface DeliverySettings {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
  concurrency: number;
  maxRetryAfterMs: number;
  drainDeadlineMs: number;
  deliveredRetentionDays: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {...playbooks.alerting.delivery};

export interface AttemptResult {
  ok: boolean;
  /** HTTP status, or null when no response came (network error, time-out) */
  status: number | null;
  /** ms to wait before the next try, from a 429's Retry-After */
  retryAfterMs: number | null;
  /** a failure that retrying cannot fix */
  permanent: boolean;
  error: string | null;
  durationMs: number;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Exponential backoff with jitter for the n-th consecutive failure (n ≥ 1). */
export function backoffMs(
  n: number,
  s: Pick<DeliverySettings, "backoffBaseMs" | "backoffMaxMs">,
  random: () => number = Math.random,
): number {
  const exp = Math.min(s.backoffMaxMs, s.backoffBaseMs * 2 ** Math.min(n - 1, 30));
  return Math.round(exp * (0.5 + random()));
}

// node:http with keep-alive agents rather than fetch(): measured here, fetch() managed ~400
// POSTs/s to a local receiver and http.request ~1,300, and the outbox drain is bound by it.
const agents = {
  http: new HttpAgent({keepAlive: true, maxSockets: 64}),
  https: new HttpsAgent({keepAlive: true, maxSockets: 64}),
};

class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** POST `body`; resolves with the status, headers and the first 200 characters of the answer. */
function post(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{status: number; headers: IncomingHttpHeaders; text: string}> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const isHttps = u.protocol === "https:";
    const req = (isHttps ? httpsRequest : httpRequest)(
      u,
      {
        method: "POST",
        agent: isHttps ? agents.https : agents.http,
        headers: {...headers, "content-length": String(Buffer.byteLength(body))},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (text.length < 200) text += chunk;
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({status: res.statusCode ?? 0, headers: res.headers, text: text.slice(0, 200)});
        });
        res.on("error", reject);
      },
    );
    // one deadline for the whole exchange: a target that accepts the connection and then hangs counts as failed
    const timer = setTimeout(() => req.destroy(new TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** One signed POST of `event` to `target`. Never throws: failures come back as results. */
export async function attemptDelivery(
  target: AlertTarget,
  id: string,
  event: OutboxEvent,
  timeoutMs: number,
): Promise<AttemptResult> {
  const t0 = performance.now();
  const body = bodyFor(target.format, event);
  const done = (r: Omit<AttemptResult, "durationMs">): AttemptResult => ({...r, durationMs: performance.now() - t0});
  try {
    const res = await post(target.url, webhookHeaders(target.secret, id, body), body, target.timeoutMs ?? timeoutMs);
    if (res.status >= 200 && res.status < 300)
      return done({ok: true, status: res.status, retryAfterMs: null, permanent: false, error: null});
    // redirects are not followed (a moved webhook is a configuration error), so 3xx is permanent too
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    const retryAfter = res.headers["retry-after"];
    return done({
      ok: false,
      status: res.status,
      retryAfterMs: res.status === 429 ? parseRetryAfter(typeof retryAfter === "string" ? retryAfter : null) : null,
      permanent: !retryable,
      error: `HTTP ${res.status}${res.text ? `: ${res.text.replace(/\s+/g, " ")}` : ""}`,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return done({
      ok: false,
      status: null,
      retryAfterMs: null,
      permanent: false,
      error: err.name === "TimeoutError" ? err.message : (err.code ?? err.message),
    });
  }
}

/**
 * Sends one test alert to a target right now (not through the outbox) and reports what it
 * answered. The API exposes it as an admin endpoint; `npm run alerts -- --test <name>` too.
 */
export async function sendTestAlert(
  target: AlertTarget,
  opts: {timeoutMs?: number} = {},
): Promise<AttemptResult & {id: string; target: string}> {
  const id = `msg_test_${randomUUID().replaceAll("-", "")}`;
  const r = await attemptDelivery(target, id, testEvent(), opts.timeoutMs ?? DEFAULT_DELIVERY.requestTimeoutMs);
  return {...r, id, target: target.name};
}

export interface DrainOptions {
  outboxDir: string;
  targets: readonly AlertTarget[];
  settings?: Partial<DeliverySettings>;
  log?: (line: string) => void;
  /** stop when nothing is due before this many ms from the start (default settings.drainDeadlineMs) */
  deadlineMs?: number;
}

export interface DrainReport {
  delivered: number;
  failedAttempts: number;
  deadLettered: number;
  /** still pending when the drain stopped (not due before the deadline, or for an unknown target) */
  pending: number;
  /** pending for targets that are not configured or disabled */
  skipped: number;
  seconds: number;
}

interface TargetState {
  target: AlertTarget;
  inFlight: number;
  pausedUntil: number;
  /** consecutive failures; while > 0 the target is probed one delivery at a time */
  failures: number;
  /** a delivery has succeeded in this run; until then the target gets one at a time too (no burst at a target that is down) */
  proven: boolean;
}

/** Delivers what is pending until nothing is left or nothing more is due before the deadline. */
export async function drainOutbox(opts: DrainOptions): Promise<DrainReport> {
  const s: DeliverySettings = {...DEFAULT_DELIVERY, ...opts.settings};
  const log = opts.log ?? (() => {});
  const start = Date.now();
  const deadline = start + (opts.deadlineMs ?? s.drainDeadlineMs);
  const box = await Outbox.open(opts.outboxDir, {deliveredRetentionDays: s.deliveredRetentionDays});
  const report: DrainReport = {delivered: 0, failedAttempts: 0, deadLettered: 0, pending: 0, skipped: 0, seconds: 0};
  const targets = new Map<string, TargetState>(
    opts.targets
      .filter((t) => t.enabled)
      .map((t) => [t.name, {target: t, inFlight: 0, pausedUntil: 0, failures: 0, proven: false}]),
  );
  const inFlight = new Set<Promise<void>>();
  const busy = new Set<string>();
  // journal writes are batched: one fsync for many outcomes, at most ~25 ms apart
  let lastFlush = Date.now();
  const maybeFlush = async (force = false) => {
    if (force || box.unflushed >= 256 || Date.now() - lastFlush >= 25) {
      await box.flush();
      lastFlush = Date.now();
    }
  };

  // failuresAtStart: requests in flight together that fail together count as one backoff step
  const finish = (e: OutboxEntry, t: TargetState, r: AttemptResult, failuresAtStart: number) => {
    const now = Date.now();
    const attempts = e.attempts + 1;
    if (r.ok) {
      t.failures = 0;
      t.proven = true;
      box.record({op: "delivered", key: e.key, at: now, attempts});
      report.delivered++;
      return;
    }
    report.failedAttempts++;
    let wait: number;
    if (r.status === 429) {
      wait = Math.min(r.retryAfterMs ?? backoffMs(attempts, s), s.maxRetryAfterMs);
    } else {
      t.failures = Math.max(t.failures, failuresAtStart + 1);
      wait = backoffMs(t.failures, s);
    }
    if (!r.permanent) t.pausedUntil = Math.max(t.pausedUntil, now + wait);
    if (r.permanent || attempts >= s.maxAttempts) {
      box.record({op: "dead", key: e.key, at: now, attempts, error: r.error ?? "failed"});
      report.deadLettered++;
      log(`dead letter ${e.key} after ${attempts} attempt(s): ${r.error}`);
    } else {
      box.record({op: "attempt", key: e.key, at: now, attempts, next: now + wait, error: r.error ?? "failed"});
    }
  };

  // deliveries in enqueue order; finished ones are skipped and dropped from the head as we go
  let queue: OutboxEntry[] = box.pending();
  let head = 0;
  const start_ = (e: OutboxEntry, t: TargetState) => {
    t.inFlight++;
    busy.add(e.key);
    const failuresAtStart = t.failures;
    const p: Promise<void> = attemptDelivery(t.target, e.id, e.event!, s.requestTimeoutMs).then((r) => {
      t.inFlight--;
      busy.delete(e.key);
      inFlight.delete(p);
      finish(e, t, r, failuresAtStart);
    });
    inFlight.add(p);
  };

  try {
    let lastAbsorb = Date.now();
    for (;;) {
      const now = Date.now();
      if (now - lastAbsorb > 1000) {
        if (await box.absorbIncoming()) queue = box.pending(); // alerts enqueued while we drain
        lastAbsorb = now;
      }
      while (head < queue.length && queue[head]!.status !== "pending") head++;
      if (head > 4096) ((queue = queue.slice(head)), (head = 0));
      // start every due delivery a target has room for; stop scanning once every target is
      // full or paused (so a 10,000-entry outbox costs a few checks per delivery, not 10,000)
      let nextDue = Infinity;
      const blocked = new Set<string>();
      if (now < deadline) {
        for (let i = head; i < queue.length && blocked.size < targets.size; i++) {
          const e = queue[i]!;
          if (e.status !== "pending" || busy.has(e.key) || blocked.has(e.target)) continue;
          const t = targets.get(e.target);
          if (!t) continue;
          if (t.pausedUntil > now) {
            nextDue = Math.min(nextDue, t.pausedUntil);
            blocked.add(e.target);
          } else if (e.nextAttemptAt > now) {
            nextDue = Math.min(nextDue, e.nextAttemptAt);
          } else if (t.inFlight >= (t.proven && t.failures === 0 ? s.concurrency : 1)) {
            blocked.add(e.target);
          } else start_(e, t);
        }
      }
      await maybeFlush();
      if (inFlight.size === 0) {
        // nothing running: stop when nothing for a configured target is left or due before the deadline
        const left = queue.slice(head).filter((e) => e.status === "pending" && targets.has(e.target));
        const due = Math.min(...left.map((e) => Math.max(e.nextAttemptAt, targets.get(e.target)!.pausedUntil)));
        if (left.length === 0 || due >= deadline || now >= deadline) break;
        nextDue = Math.min(nextDue, due);
      }
      // wait for a delivery to finish or the next entry to come due
      const sleep = Math.max(1, Math.min(nextDue - Date.now(), deadline - Date.now(), inFlight.size ? 25 : 1000));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([...inFlight, new Promise<void>((r) => (timer = setTimeout(r, sleep)))]);
      clearTimeout(timer);
    }
    await maybeFlush(true);
    for (const e of box.entries.values()) {
      if (e.status !== "pending") continue;
      report.pending++;
      if (!targets.has(e.target)) report.skipped++;
    }
    if (report.skipped)
      log(`${report.skipped} pending delivery(ies) for targets that are not configured or disabled: kept for later`);
  } finally {
    await Promise.allSettled([...inFlight]);
    await box.close();
  }
  report.seconds = (Date.now() - start) / 1000;
  return report;
}
