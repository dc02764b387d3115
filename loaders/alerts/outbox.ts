/**
 * The durable alert outbox: nothing is lost when a target is down or the process dies.
 *
 * Layout under data/outbox/ (no database, plain files):
 *   journal.jsonl   append-only log of what happened to each delivery (enqueued, attempted,
 *                   delivered, dead-lettered, replayed); appended and fsync'ed in batches by
 *                   the one process that holds the lock; the state is the replay of the log
 *   incoming/*.jsonl  batches written by producers (the build, the admin replay), each one
 *                   written to a temporary name, fsync'ed and renamed, so it is whole or absent;
 *                   the lock holder moves them into the journal
 *   lock            pid of the process draining the outbox (a dead pid's lock is taken over)
 *
 * Producers never touch the journal, so the build can enqueue while `npm run alerts` drains.
 * A delivery is keyed by target + message id; enqueuing a key the outbox already knows
 * (pending, delivered or dead) is a no-op, so re-running a build or re-enqueuing tonight's
 * alerts never sends them twice. Delivery is at-least-once: a process killed after a target
 * answered but before the journal was synced sends that message again with the same
 * webhook-id, which receivers de-duplicate on.
 */
import {randomUUID} from "node:crypto";
import {existsSync, mkdirSync, readFileSync} from "node:fs";
import {open, readdir, readFile, rename, rm, truncate, writeFile, type FileHandle} from "node:fs/promises";
import {join} from "node:path";
import {z} from "zod";
import type {OutboxEvent} from "./payloads.ts";

export type EntryStatus = "pending" | "delivered" | "dead";

export interface OutboxEntry {
  /** `${target}/${id}` */
  key: string;
  /** the webhook-id */
  id: string;
  target: string;
  /** absent for delivered entries compacted to a tombstone */
  event?: OutboxEvent;
  enqueuedAt: number;
  status: EntryStatus;
  attempts: number;
  /** epoch ms before which the entry is not tried again */
  nextAttemptAt: number;
  lastError?: string;
  doneAt?: number;
}

export interface NewMessage {
  id: string;
  target: string;
  event: OutboxEvent;
}

const EventShape = z.object({type: z.string(), timestamp: z.string(), data: z.record(z.string(), z.unknown())});
const EventSchema = z.custom<OutboxEvent>(
  (v) => EventShape.safeParse(v).success,
  "not an alert event {type, timestamp, data}",
);
const OpSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("enqueue"),
    key: z.string(),
    id: z.string(),
    target: z.string(),
    event: EventSchema,
    at: z.number(),
  }),
  z.object({
    op: z.literal("attempt"),
    key: z.string(),
    at: z.number(),
    attempts: z.number(),
    next: z.number(),
    error: z.string(),
  }),
  z.object({op: z.literal("delivered"), key: z.string(), at: z.number(), attempts: z.number()}),
  z.object({op: z.literal("dead"), key: z.string(), at: z.number(), attempts: z.number(), error: z.string()}),
  z.object({op: z.literal("replay"), key: z.string(), at: z.number()}),
]);
export type Op = z.infer<typeof OpSchema>;

export const keyOf = (target: string, id: string) => `${target}/${id}`;

/**
 * Applies one op to the state; returns false when it changes nothing (a duplicate enqueue, a
 * replay of something not dead, an op for an unknown key), so it need not be journalled.
 */
function apply(state: Map<string, OutboxEntry>, op: Op): boolean {
  const e = state.get(op.key);
  switch (op.op) {
    case "enqueue":
      if (e) return false;
      state.set(op.key, {
        key: op.key,
        id: op.id,
        target: op.target,
        event: op.event,
        enqueuedAt: op.at,
        status: "pending",
        attempts: 0,
        nextAttemptAt: op.at,
      });
      return true;
    case "attempt":
      if (!e || e.status !== "pending") return false;
      Object.assign(e, {attempts: op.attempts, nextAttemptAt: op.next, lastError: op.error});
      return true;
    case "delivered":
      // a tombstone kept by compaction has no enqueue before it
      if (!e)
        state.set(op.key, {
          key: op.key,
          id: op.key.slice(op.key.indexOf("/") + 1),
          target: op.key.slice(0, op.key.indexOf("/")),
          enqueuedAt: op.at,
          status: "delivered",
          attempts: op.attempts,
          nextAttemptAt: 0,
          doneAt: op.at,
        });
      else Object.assign(e, {status: "delivered", attempts: op.attempts, doneAt: op.at});
      return true;
    case "dead":
      if (!e || e.status === "delivered") return false;
      Object.assign(e, {status: "dead", attempts: op.attempts, lastError: op.error, doneAt: op.at});
      return true;
    case "replay":
      if (!e || e.status !== "dead") return false;
      Object.assign(e, {status: "pending", attempts: 0, nextAttemptAt: op.at, doneAt: undefined});
      return true;
  }
}

function parseLines(text: string, file: string, allowTornTail: boolean): Op[] {
  const lines = text.split("\n");
  const ops: Op[] = [];
  lines.forEach((line, i) => {
    if (line === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (allowTornTail && i === lines.length - 1) return; // a write cut short by a crash
      throw new Error(`${file}:${i + 1}: not valid JSON — the outbox is damaged; move the file away to start afresh`);
    }
    const r = OpSchema.safeParse(parsed);
    if (!r.success)
      throw new Error(
        `${file}:${i + 1}: ${r.error.issues.map((x) => `${x.path.join(".") || "(line)"}: ${x.message}`).join("; ")}`,
      );
    ops.push(r.data);
  });
  return ops;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a file so that it is either complete or absent: temp name, fsync, rename, fsync dir. */
async function writeAtomic(dir: string, name: string, data: string): Promise<void> {
  const tmp = join(dir, `.tmp-${process.pid}-${randomUUID()}`);
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

const incomingDir = (dir: string) => join(dir, "incoming");
const journalPath = (dir: string) => join(dir, "journal.jsonl");

function ensureDirs(dir: string): void {
  mkdirSync(incomingDir(dir), {recursive: true});
}

async function writeIncoming(dir: string, ops: Op[]): Promise<void> {
  if (!ops.length) return;
  ensureDirs(dir);
  await writeAtomic(
    incomingDir(dir),
    `${Date.now()}-${process.pid}-${randomUUID()}.jsonl`,
    ops.map((o) => JSON.stringify(o)).join("\n") + "\n",
  );
}

async function incomingFiles(dir: string): Promise<string[]> {
  if (!existsSync(incomingDir(dir))) return [];
  return (await readdir(incomingDir(dir))).filter((f) => f.endsWith(".jsonl") && !f.startsWith(".")).sort();
}

/**
 * Producer side: adds deliveries to the outbox (durably, before returning). Safe to call while
 * another process drains; duplicates of known keys are dropped when the drainer absorbs them.
 */
export async function enqueue(dir: string, messages: readonly NewMessage[], now: number = Date.now()): Promise<number> {
  await writeIncoming(
    dir,
    messages.map(
      (m) =>
        ({op: "enqueue", key: keyOf(m.target, m.id), id: m.id, target: m.target, event: m.event, at: now}) satisfies Op,
    ),
  );
  return messages.length;
}

/** The outbox's current state, read without the lock (for listings and status). */
export async function readOutbox(dir: string): Promise<Map<string, OutboxEntry>> {
  const state = new Map<string, OutboxEntry>();
  if (existsSync(journalPath(dir)))
    for (const op of parseLines(await readFile(journalPath(dir), "utf8"), journalPath(dir), true)) apply(state, op);
  for (const f of await incomingFiles(dir)) {
    const path = join(incomingDir(dir), f);
    try {
      for (const op of parseLines(await readFile(path, "utf8"), path, false)) apply(state, op);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // absorbed meanwhile: already in the journal we read or will read
    }
  }
  return state;
}

/**
 * Admin replay of dead letters: moves them back to pending with a fresh attempt count.
 * `which` is "all" or a list of message ids or target/id keys. Returns the keys requested.
 */
export async function replayDeadLetters(
  dir: string,
  which: "all" | readonly string[] = "all",
  now: number = Date.now(),
): Promise<string[]> {
  const dead = [...(await readOutbox(dir)).values()].filter((e) => e.status === "dead");
  const wanted = which === "all" ? dead : dead.filter((e) => which.includes(e.key) || which.includes(e.id));
  await writeIncoming(
    dir,
    wanted.map((e) => ({op: "replay", key: e.key, at: now})),
  );
  return wanted.map((e) => e.key);
}

export class OutboxBusyError extends Error {
  override name = "OutboxBusyError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function acquireLock(dir: string): Promise<string> {
  const path = join(dir, "lock");
  for (let i = 0; i < 3; i++) {
    try {
      await writeFile(path, String(process.pid), {flag: "wx"});
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new OutboxBusyError(`${dir} is being drained by process ${pid}; try again when it has finished`);
      await rm(path, {force: true}); // the holder died (e.g. killed mid-delivery): take over
    }
  }
  throw new OutboxBusyError(`${dir}: could not take the outbox lock`);
}

/**
 * The lock holder's view: loads the journal, absorbs incoming batches, records what happens
 * to deliveries (buffered; flush() makes it durable) and compacts the journal on close.
 */
export class Outbox {
  readonly entries = new Map<string, OutboxEntry>();
  private buffer: Op[] = [];
  private journalLines = 0;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly lockPath: string,
    private fh: FileHandle,
    private readonly retentionMs: number,
  ) {}

  static async open(dir: string, opts: {deliveredRetentionDays?: number} = {}): Promise<Outbox> {
    ensureDirs(dir);
    const lockPath = await acquireLock(dir);
    try {
      const jp = journalPath(dir);
      let text = existsSync(jp) ? await readFile(jp, "utf8") : "";
      // drop a line cut short by a crash, so the next append starts on a fresh line
      if (text !== "" && !text.endsWith("\n")) {
        text = text.slice(0, text.lastIndexOf("\n") + 1);
        await truncate(jp, Buffer.byteLength(text));
      }
      const fh = await open(jp, "a");
      const box = new Outbox(dir, lockPath, fh, (opts.deliveredRetentionDays ?? 90) * 86_400_000);
      for (const op of parseLines(text, jp, false)) {
        apply(box.entries, op);
        box.journalLines++;
      }
      await box.absorbIncoming();
      return box;
    } catch (e) {
      await rm(lockPath, {force: true});
      throw e;
    }
  }

  /** Moves producers' batches into the journal. Returns how many new ops they held. */
  async absorbIncoming(): Promise<number> {
    let added = 0;
    for (const f of await incomingFiles(this.dir)) {
      const path = join(incomingDir(this.dir), f);
      for (const op of parseLines(await readFile(path, "utf8"), path, false))
        if (apply(this.entries, op)) (this.buffer.push(op), added++);
      // durable in the journal before the batch is removed; a crash in between re-reads it, and duplicates are no-ops
      await this.flush();
      await rm(path, {force: true});
    }
    return added;
  }

  /** Applies an op now; it becomes durable at the next flush(). */
  record(op: Op): void {
    if (apply(this.entries, op)) this.buffer.push(op);
  }

  get unflushed(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    if (!this.buffer.length) return;
    const ops = this.buffer;
    this.buffer = [];
    await this.fh.write(ops.map((o) => JSON.stringify(o)).join("\n") + "\n");
    await this.fh.datasync();
    this.journalLines += ops.length;
  }

  pending(): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.status === "pending");
  }

  dead(): OutboxEntry[] {
    return [...this.entries.values()].filter((e) => e.status === "dead");
  }

  /**
   * Rewrites the journal as one line per live entry (delivered ones as small tombstones,
   * dropped after the retention period) when history makes up most of it.
   */
  async compact(now: number = Date.now(), force = false): Promise<void> {
    await this.flush();
    for (const [k, e] of this.entries)
      if (e.status === "delivered" && now - (e.doneAt ?? 0) > this.retentionMs) this.entries.delete(k);
    if (!force && this.journalLines < 2 * this.entries.size + 1000) return;
    const lines: string[] = [];
    for (const e of this.entries.values()) {
      if (e.status === "delivered") {
        lines.push(
          JSON.stringify({op: "delivered", key: e.key, at: e.doneAt ?? now, attempts: e.attempts} satisfies Op),
        );
        continue;
      }
      lines.push(
        JSON.stringify({
          op: "enqueue",
          key: e.key,
          id: e.id,
          target: e.target,
          event: e.event!,
          at: e.enqueuedAt,
        } satisfies Op),
      );
      if (e.status === "dead")
        lines.push(
          JSON.stringify({
            op: "dead",
            key: e.key,
            at: e.doneAt ?? now,
            attempts: e.attempts,
            error: e.lastError ?? "",
          } satisfies Op),
        );
      else if (e.attempts > 0)
        lines.push(
          JSON.stringify({
            op: "attempt",
            key: e.key,
            at: now,
            attempts: e.attempts,
            next: e.nextAttemptAt,
            error: e.lastError ?? "",
          } satisfies Op),
        );
    }
    await this.fh.close();
    await writeAtomic(this.dir, "journal.jsonl", lines.length ? lines.join("\n") + "\n" : "");
    this.fh = await open(journalPath(this.dir), "a");
    this.journalLines = lines.length;
  }

  /** Flushes, compacts if worthwhile, and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.compact();
    } finally {
      await this.fh.close();
      await rm(this.lockPath, {force: true});
    }
  }
}
