/**
 * The operational store, one suite run against both engines: SQLite in a temp file and a real
 * PostgreSQL 15 cluster started for the run (tests/helpers/postgres.ts). Audit immutability is
 * checked through each engine's own client, not through the store's code.
 */
import {spawn} from "node:child_process";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import {sql} from "kysely";
import pg from "pg";
import {afterAll, afterEach, beforeAll, describe, expect, it} from "vitest";
import {config} from "../src/rules/config.ts";
import {
  openStore,
  StoreConflictError,
  StoreInputError,
  StoreSettingError,
  type Actor,
  type CtaChange,
  type OperationalStore,
} from "../loaders/store/index.ts";
import {DEFAULT_SQLITE_FILE, openSqlite, parseStoreSetting, redact} from "../loaders/store/dialects.ts";
import {storeSettingFor} from "../loaders/store/location.ts";
import {startPostgres, type PrivatePostgres} from "./helpers/postgres.ts";

const NOW = new Date("2026-06-15T09:30:00Z");
const TODAY = "2026-06-15";
const day = (n: number) => new Date(Date.parse(`${TODAY}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const ana: Actor = {name: "ana", role: "csm", via: "api_key"};
const lead: Actor = {name: "lee", role: "lead", via: "proxy"};
const build: Actor = {name: "nightly build", role: "system", via: "build"};

interface Engine {
  name: "sqlite" | "postgres";
  /** a setting naming a new, empty store */
  fresh(): Promise<string>;
  /** runs SQL through the engine's own client (not the store) */
  raw(setting: string, statement: string): Promise<void>;
  stop(): Promise<void>;
}

async function sqliteEngine(): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), "saasguard-store-"));
  let n = 0;
  return {
    name: "sqlite",
    fresh: async () => `sqlite:${path.join(dir, `store${++n}.sqlite`)}`,
    async raw(setting, statement) {
      const db = new Database(setting.slice("sqlite:".length));
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    },
    stop: async () => rmSync(dir, {recursive: true, force: true}),
  };
}

async function postgresEngine(): Promise<Engine> {
  const cluster: PrivatePostgres = await startPostgres();
  return {
    name: "postgres",
    fresh: () => cluster.newDatabase(),
    async raw(setting, statement) {
      const client = new pg.Client({connectionString: setting});
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    },
    stop: () => cluster.stop(),
  };
}

/** the problems a StoreInputError carries, or a failure when the call did not throw one */
async function problemsOf(p: Promise<unknown>): Promise<{field: string; message: string}[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreInputError) return e.problems;
    throw e;
  }
  throw new Error("expected a StoreInputError, the call succeeded");
}

describe.each([
  {name: "sqlite", start: sqliteEngine},
  {name: "postgres", start: postgresEngine},
])("operational store on $name", ({start}) => {
  let engine: Engine;
  const opened: OperationalStore[] = [];
  beforeAll(async () => {
    engine = await start();
  });
  afterAll(async () => {
    await engine?.stop();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  async function open(setting: string): Promise<OperationalStore> {
    const store = await openStore(setting);
    opened.push(store);
    return store;
  }
  async function fresh(): Promise<{store: OperationalStore; setting: string}> {
    const setting = await engine.fresh();
    const store = await open(setting);
    await store.migrate();
    return {store, setting};
  }

  it("renewal calls: the newest call on each renewal counts, every call stays on record, bad input is named", async () => {
    const {store} = await fresh();
    await store.recordRenewalCall({customer_id: "C1", renewal_date: "2026-09-30", call: "likely"}, ana, NOW);
    await store.recordRenewalCall(
      {customer_id: "C1", renewal_date: "2026-09-30", call: "at_risk", note: "  budget freeze  "},
      lead,
      new Date(NOW.getTime() + 60_000),
    );
    await store.recordRenewalCall({customer_id: "C2", renewal_date: "2026-08-31", call: "commit"}, ana, NOW);
    // a call on the renewal after it is another renewal's
    await store.recordRenewalCall({customer_id: "C2", renewal_date: "2027-08-31", call: "lost"}, ana, NOW);
    const latest = await store.latestRenewalCalls(["C1", "C2", "C3"]);
    expect(latest.map((c) => [c.customer_id, c.renewal_date, c.call, c.note, c.actor])).toEqual([
      ["C1", "2026-09-30", "at_risk", "budget freeze", "lee"],
      ["C2", "2026-08-31", "commit", null, "ana"],
      ["C2", "2027-08-31", "lost", null, "ana"],
    ]);
    expect((await store.latestRenewalCalls()).length).toBe(3);
    expect((await store.latestRenewalCalls([])).length).toBe(0);
    const history = await store.renewalCallHistory("C1");
    expect(history.map((c) => [c.call, c.role, c.at])).toEqual([
      ["likely", "csm", NOW.toISOString()],
      ["at_risk", "lead", new Date(NOW.getTime() + 60_000).toISOString()],
    ]);
    const problems = await problemsOf(
      store.recordRenewalCall(
        {customer_id: "", renewal_date: "2026-02-30", call: "maybe" as never, note: "x".repeat(1001)},
        build,
        NOW,
      ),
    );
    expect(problems.map((p) => p.field).sort()).toEqual(["actor.role", "call", "customer_id", "note", "renewal_date"]);
    expect((await store.renewalCallHistory("")).length).toBe(0);
  });

  it("opens the engine its setting names", async () => {
    const {store} = await fresh();
    expect(store.kind).toBe(engine.name);
  });

  it("runs versioned migrations once: a second run, or a second handle, applies nothing", async () => {
    const setting = await engine.fresh();
    const a = await open(setting);
    const b = await open(setting);
    expect(await a.migrate()).toEqual(["0001_cta_work", "0002_assistant_feedback", "0003_renewal_calls"]);
    expect(await a.migrate()).toEqual([]);
    expect(await b.migrate()).toEqual([]);
    // two handles migrating a new database at the same moment: it is applied exactly once
    const setting2 = await engine.fresh();
    const [c, d] = [await open(setting2), await open(setting2)];
    const applied = (await Promise.all([c.migrate(), d.migrate()])).flat();
    expect(applied).toEqual(["0001_cta_work", "0002_assistant_feedback", "0003_renewal_calls"]);
    expect(await c.ctaStates()).toEqual([]);
  });

  it("works a CTA through its statuses and keeps the timeline, oldest first", async () => {
    const {store} = await fresh();
    expect(await store.ctaStates(["cta-1"])).toEqual([]);

    const r1 = await store.applyCtaChange("cta-1", {status: "in_progress", priority_rank: 2}, ana, NOW);
    expect(r1.state).toMatchObject({
      cta_id: "cta-1",
      status: "in_progress",
      version: 1,
      priority_rank_at_change: 2,
      first_action_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      updated_by: "ana",
      assignee: null,
    });
    expect(r1.audit).toEqual([
      {
        id: expect.any(Number),
        at: NOW.toISOString(),
        actor: "ana",
        role: "csm",
        via: "api_key",
        entity: "cta",
        entity_id: "cta-1",
        action: "status",
        detail: {from: "open", to: "in_progress"},
      },
    ]);

    const later = new Date(NOW.getTime() + 3_600_000);
    const r2 = await store.applyCtaChange(
      "cta-1",
      {status: "snoozed", snoozed_until: day(14), status_reason: " customer on holiday ", expected_version: 1},
      lead,
      later,
    );
    expect(r2.state).toMatchObject({
      status: "snoozed",
      snoozed_until: day(14),
      status_reason: "customer on holiday",
      version: 2,
      priority_rank_at_change: null, // no rank given with this change: none is remembered
      first_action_at: NOW.toISOString(), // the first human write stays the first
      updated_by: "lee",
    });
    expect(r2.audit[0]!.detail).toEqual({
      from: "in_progress",
      to: "snoozed",
      until: day(14),
      reason: "customer on holiday",
    });

    // leaving the snooze clears its date and reason
    const r3 = await store.applyCtaChange("cta-1", {status: "done", priority_rank: 1}, ana, later);
    expect(r3.state).toMatchObject({status: "done", snoozed_until: null, status_reason: null, version: 3});
    expect(r3.state.priority_rank_at_change).toBe(1);

    const r4 = await store.applyCtaChange("cta-1", {status: "dismissed", status_reason: "duplicate"}, ana, later);
    expect(r4.state).toMatchObject({status: "dismissed", status_reason: "duplicate", version: 4});

    const timeline = await store.timeline("cta-1");
    expect(timeline.map((e) => [e.action, e.detail.to, e.actor])).toEqual([
      ["status", "in_progress", "ana"],
      ["status", "snoozed", "lee"],
      ["status", "done", "ana"],
      ["status", "dismissed", "ana"],
    ]);
    expect(timeline.map((e) => e.id)).toEqual([...timeline.map((e) => e.id)].sort((a, b) => a - b));
    expect(await store.ctaStates(["cta-1", "no-such-cta"])).toEqual([r4.state]);
  });

  it("a change that changes nothing writes nothing; the build's writes are not a first action", async () => {
    const {store} = await fresh();
    const first = await store.applyCtaChange("cta-2", {status: "open"}, ana, NOW);
    expect(first.audit).toEqual([]);
    expect(first.state.version).toBe(0);
    expect(await store.ctaStates()).toEqual([]);

    const sys = await store.applyCtaChange("cta-2", {status: "in_progress"}, build, NOW);
    expect(sys.state.first_action_at).toBeNull();
    const again = await store.applyCtaChange("cta-2", {status: "in_progress", expected_version: 1}, ana, NOW);
    expect(again).toEqual({state: sys.state, audit: []});
    const human = await store.applyCtaChange("cta-2", {note: "called them"}, ana, NOW);
    expect(human.state).toMatchObject({version: 2, first_action_at: NOW.toISOString(), status: "in_progress"});
  });

  it("records notes and reassignments", async () => {
    const {store} = await fresh();
    const r = await store.applyCtaChange("cta-3", {note: "  left a voicemail  ", assignee: "bo"}, lead, NOW);
    expect(r.audit.map((a) => [a.action, a.detail])).toEqual([
      ["assign", {from: null, to: "bo"}],
      ["note", {text: "left a voicemail"}],
    ]);
    expect(r.state).toMatchObject({assignee: "bo", status: "open", version: 1});
    const back = await store.applyCtaChange("cta-3", {assignee: null}, lead, NOW);
    expect(back.state.assignee).toBeNull();
    expect(back.audit[0]!.detail).toEqual({from: "bo", to: null});
    const note = "x".repeat(config.ctaWork.noteMaxChars);
    expect((await store.applyCtaChange("cta-3", {note}, ana, NOW)).audit[0]!.detail).toEqual({text: note});
    expect((await store.timeline("cta-3")).map((a) => a.action)).toEqual(["assign", "note", "assign", "note"]);
    expect(await store.timeline("cta-unknown")).toEqual([]);
  });

  it("refuses a change made against an old version, and writes nothing", async () => {
    const {store} = await fresh();
    await store.applyCtaChange("cta-4", {status: "in_progress", expected_version: 0}, ana, NOW);
    await store.applyCtaChange("cta-4", {note: "one", expected_version: 1}, ana, NOW);
    const stale = store.applyCtaChange("cta-4", {status: "done", expected_version: 1}, lead, NOW);
    await expect(stale).rejects.toBeInstanceOf(StoreConflictError);
    await expect(stale).rejects.toMatchObject({ctaId: "cta-4", expectedVersion: 1, currentVersion: 2});
    await expect(store.applyCtaChange("cta-4", {note: "x", expected_version: 0}, ana, NOW)).rejects.toThrow(
      /CTA cta-4 is at version 2, the change expected 0/,
    );
    // a CTA nobody worked is at version 0
    await expect(store.applyCtaChange("cta-new", {note: "x", expected_version: 3}, ana, NOW)).rejects.toMatchObject({
      currentVersion: 0,
    });
    expect((await store.ctaStates(["cta-4"]))[0]).toMatchObject({status: "in_progress", version: 2});
    expect(await store.timeline("cta-4")).toHaveLength(2);
    expect(await store.ctaStates(["cta-new"])).toEqual([]);
  });

  it("rejects every bad input with the field and what is wrong, and writes nothing", async () => {
    const {store} = await fresh();
    const bad = async (change: CtaChange, actor: Actor = ana, id = "cta-5") =>
      problemsOf(store.applyCtaChange(id, change, actor, NOW));
    const one = async (change: CtaChange, field: string, message: RegExp, actor: Actor = ana, id = "cta-5") => {
      const problems = await bad(change, actor, id);
      expect(problems, JSON.stringify(change)).toContainEqual({field, message: expect.stringMatching(message)});
    };
    const reasons = config.ctaWork.dismissReasons.join(", ");
    await one({status: "closed" as never}, "status", /must be one of open, in_progress, done, snoozed, dismissed/);
    await one({status: "snoozed", status_reason: "travel"}, "snoozed_until", /needs the date it ends/);
    await one({status: "snoozed", snoozed_until: "2026-13-01", status_reason: "r"}, "snoozed_until", /YYYY-MM-DD/);
    await one({status: "snoozed", snoozed_until: "2026-02-30", status_reason: "r"}, "snoozed_until", /YYYY-MM-DD/);
    await one({status: "snoozed", snoozed_until: "next week", status_reason: "r"}, "snoozed_until", /YYYY-MM-DD/);
    await one(
      {status: "snoozed", snoozed_until: TODAY, status_reason: "r"},
      "snoozed_until",
      /after today \(2026-06-15\)/,
    );
    await one({status: "snoozed", snoozed_until: day(-3), status_reason: "r"}, "snoozed_until", /after today/);
    const max = config.ctaWork.snoozeMaxDays;
    await one({status: "snoozed", snoozed_until: day(max + 1), status_reason: "r"}, "snoozed_until", /at most 90 days/);
    await one({status: "snoozed", snoozed_until: day(3)}, "status_reason", /a snooze needs a reason/);
    await one({status: "snoozed", snoozed_until: day(3), status_reason: "   "}, "status_reason", /needs a reason/);
    const long = "r".repeat(config.ctaWork.reasonMaxChars + 1);
    await one({status: "snoozed", snoozed_until: day(3), status_reason: long}, "status_reason", /at most 200/);
    await one({status: "dismissed"}, "status_reason", new RegExp(`one of the reasons ${reasons}`));
    await one({status: "dismissed", status_reason: "meh"}, "status_reason", /config\.ctaWork\.dismissReasons/);
    await one(
      {status: "done", status_reason: "finished"},
      "status_reason",
      /only with status "snoozed" or "dismissed"/,
    );
    await one({status_reason: "duplicate", note: "n"}, "status_reason", /only with status/);
    await one({status: "done", snoozed_until: day(3)}, "snoozed_until", /only with status "snoozed"/);
    await one({note: ""}, "note", /non-empty text/);
    await one({note: " \n "}, "note", /non-empty text/);
    await one({note: 42 as never}, "note", /non-empty text/);
    await one({note: "x".repeat(config.ctaWork.noteMaxChars + 1)}, "note", /at most 4000 characters/);
    await one({assignee: ""}, "assignee", /or null for the account owner/);
    await one({assignee: "a".repeat(201)}, "assignee", /1–200 characters/);
    await one({note: "n", priority_rank: -1}, "priority_rank", /whole number/);
    await one({note: "n", priority_rank: 1.5}, "priority_rank", /whole number/);
    await one({note: "n", expected_version: -1}, "expected_version", /whole number/);
    await one({note: "n", colour: "red"} as CtaChange, "colour", /not a field of a CTA change/);
    await one({}, "change", /nothing to change/);
    await one({expected_version: 0}, "change", /nothing to change/);
    await one({note: "n"}, "actor.name", /name/, {...ana, name: " "});
    await one({note: "n"}, "actor.role", /csm, lead, admin, system/, {...ana, role: "owner" as never});
    await one({note: "n"}, "actor.via", /api_key, proxy, build, cli/, {...ana, via: "email" as never});
    await one({note: "n"}, "cta_id", /id of 1–200/, ana, "");
    // every problem at once, not the first only
    const all = await bad({status: "dismissed", note: "", assignee: ""}, {...ana, role: "x" as never});
    expect(all.map((p) => p.field).sort()).toEqual(["actor.role", "assignee", "note", "status_reason"]);
    // the edges that are fine
    await store.applyCtaChange("cta-5", {status: "snoozed", snoozed_until: day(1), status_reason: "r"}, ana, NOW);
    await store.applyCtaChange("cta-5", {status: "snoozed", snoozed_until: day(max), status_reason: "r"}, ana, NOW);

    expect(await problemsOf(store.setCapacity("", 10, ana))).toContainEqual({
      field: "csm",
      message: expect.any(String),
    });
    for (const hours of [-1, 169, Number.NaN, Infinity])
      expect(await problemsOf(store.setCapacity("ana", hours, ana))).toEqual([
        {field: "hours_per_week", message: "must be a number of hours from 0 to 168, or null"},
      ]);
    expect(await problemsOf(store.audit({since: "yesterday"}))).toEqual([
      {field: "since", message: 'must be an ISO time (got "yesterday")'},
    ]);
    expect((await problemsOf(store.audit({limit: 0})))[0]!.field).toBe("limit");
    expect((await problemsOf(store.ctaStatesChangedSince("soon")))[0]!.field).toBe("since");
    // only the two good snoozes were written
    expect((await store.audit()).map((a) => a.detail.until)).toEqual([day(1), day(max)]);
    expect(await store.capacityOverrides()).toEqual([]);
  });

  it("the audit log refuses UPDATE and DELETE in the database itself", async () => {
    const {store, setting} = await fresh();
    await store.applyCtaChange("cta-6", {note: "the record"}, ana, NOW);
    await expect(engine.raw(setting, "UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(engine.raw(setting, "DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    if (engine.name === "postgres")
      await expect(engine.raw(setting, "TRUNCATE audit_log")).rejects.toThrow(/append-only/);
    expect(await store.timeline("cta-6")).toMatchObject([{actor: "ana", detail: {text: "the record"}}]);
    // appending is what it is for
    await engine.raw(
      setting,
      `INSERT INTO audit_log (at, actor, role, via, entity, entity_id, action, detail)
       VALUES ('${NOW.toISOString()}', 'ops', 'admin', 'cli', 'cta', 'cta-6', 'note', '{"text":"by hand"}')`,
    );
    expect(await store.timeline("cta-6")).toHaveLength(2);
  });

  it("loses nothing when two store handles write the same CTA at once", async () => {
    const {setting} = await fresh();
    const a = await open(setting);
    const b = await open(setting);
    // the first write of a new CTA from both at once: one inserts, the other updates
    await Promise.all([
      a.applyCtaChange("cta-7", {note: "a"}, ana, NOW),
      b.applyCtaChange("cta-7", {note: "b"}, lead, NOW),
    ]);
    await Promise.all(
      Array.from({length: 200}, (_, i) =>
        (i % 2 ? a : b).applyCtaChange("cta-7", {note: `note ${i}`}, i % 2 ? ana : lead, NOW),
      ),
    );
    const timeline = await a.timeline("cta-7");
    expect(timeline).toHaveLength(202);
    expect(new Set(timeline.map((e) => e.detail.text)).size).toBe(202);
    expect((await b.ctaStates(["cta-7"]))[0]!.version).toBe(202);
  });

  it("keeps capacity overrides with their audit rows; null removes one", async () => {
    const {store} = await fresh();
    await store.setCapacity("ana", 30, lead);
    await store.setCapacity("bo", 12.5, lead);
    await store.setCapacity("ana", 25, lead);
    await store.setCapacity("ana", 25, lead); // unchanged: no audit row
    expect(await store.capacityOverrides()).toMatchObject([
      {csm: "ana", hours_per_week: 25, updated_by: "lee"},
      {csm: "bo", hours_per_week: 12.5},
    ]);
    await store.setCapacity("bo", null, lead);
    await store.setCapacity("nobody", null, lead); // nothing to remove: no audit row
    expect((await store.capacityOverrides()).map((c) => c.csm)).toEqual(["ana"]);
    const audit = await store.audit();
    expect(audit.map((a) => [a.entity, a.entity_id, a.action, a.detail])).toEqual([
      ["capacity", "ana", "capacity", {from: null, to: 30}],
      ["capacity", "bo", "capacity", {from: null, to: 12.5}],
      ["capacity", "ana", "capacity", {from: 30, to: 25}],
      ["capacity", "bo", "capacity", {from: 12.5, to: null}],
    ]);
  });

  it("reads the audit log since a time and up to a limit, and the states changed since a time", async () => {
    const {store} = await fresh();
    const t = (h: number) => new Date(NOW.getTime() + h * 3_600_000);
    await store.applyCtaChange("a", {note: "1"}, ana, t(0));
    await store.applyCtaChange("b", {note: "2"}, ana, t(1));
    await store.applyCtaChange("c", {note: "3"}, ana, t(2));
    expect((await store.audit({since: t(1).toISOString()})).map((a) => a.entity_id)).toEqual(["b", "c"]);
    // any ISO form of the same instant
    expect((await store.audit({since: "2026-06-15T11:30:00+01:00"})).map((a) => a.entity_id)).toEqual(["b", "c"]);
    expect((await store.audit({limit: 2})).map((a) => a.entity_id)).toEqual(["a", "b"]);
    expect((await store.ctaStatesChangedSince(t(1).toISOString())).map((s) => s.cta_id)).toEqual(["c"]);
    expect((await store.ctaStatesChangedSince(null)).map((s) => s.cta_id)).toEqual(["a", "b", "c"]);
    // a long id list is read in chunks
    const ids = Array.from({length: 1201}, (_, i) => `x${i}`).concat(["b"]);
    expect((await store.ctaStates(ids)).map((s) => s.cta_id)).toEqual(["b"]);
  });
});

describe("operational store on SQLite: the embedded default", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "saasguard-store-sqlite-"));
  });
  afterAll(() => rmSync(dir, {recursive: true, force: true}));

  it("defaults to data/operational.sqlite, and reads sqlite:<path> or a plain path", () => {
    expect(DEFAULT_SQLITE_FILE).toBe("data/operational.sqlite");
    expect(parseStoreSetting(undefined)).toEqual({engine: "sqlite", file: path.resolve("data/operational.sqlite")});
    expect(parseStoreSetting("  ")).toEqual({engine: "sqlite", file: path.resolve("data/operational.sqlite")});
    expect(parseStoreSetting("sqlite:/srv/ops.sqlite")).toEqual({engine: "sqlite", file: "/srv/ops.sqlite"});
    expect(parseStoreSetting("sqlite:///srv/ops.sqlite")).toEqual({engine: "sqlite", file: "/srv/ops.sqlite"});
    expect(parseStoreSetting("var/ops.db")).toEqual({engine: "sqlite", file: path.resolve("var/ops.db")});
    expect(parseStoreSetting("postgresql://u@db.internal/saasguard")).toMatchObject({engine: "postgres"});
    expect(storeSettingFor("data/warehouse.duckdb", {})).toBe("sqlite:data/operational.sqlite");
    expect(storeSettingFor("/tmp/w/x.duckdb", {SAASGUARD_STORE: "postgres://h/db"})).toBe("postgres://h/db");
  });

  it("runs in WAL mode with a busy timeout and foreign keys, creating its folder", async () => {
    const file = path.join(dir, "nested", "ops.sqlite");
    const store = await openStore(`sqlite:${file}`);
    await store.migrate();
    await store.close();
    const db = new Database(file, {readonly: true});
    try {
      expect(db.pragma("journal_mode", {simple: true})).toBe("wal");
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all()).toEqual([
        "audit_log_no_delete",
        "audit_log_no_update",
      ]);
    } finally {
      db.close();
    }
    // the connection settings are per connection: read them on one the store's own set-up opened
    const kysely = openSqlite(file);
    const pragma = async (name: string) =>
      Object.values((await sql.raw(`PRAGMA ${name}`).execute(kysely)).rows[0] as object)[0];
    expect(await pragma("journal_mode")).toBe("wal");
    expect(await pragma("busy_timeout")).toBe(5000);
    expect(await pragma("foreign_keys")).toBe(1);
    await kysely.destroy();
  });

  it("loses nothing when another process writes the same file at the same time (WAL, busy timeout)", async () => {
    const file = path.join(dir, "shared.sqlite");
    const store = await openStore(`sqlite:${file}`);
    await store.migrate();
    const script = path.join(dir, "writer.mts");
    const storeModule = path.resolve("loaders/store/index.ts");
    writeFileSync(
      script,
      `import {openStore} from ${JSON.stringify(storeModule)};
       const store = await openStore(process.argv[2]);
       for (let i = 0; i < 150; i++)
         await store.applyCtaChange("cta-x", {note: "child " + i}, {name: "child", role: "system", via: "build"});
       await store.close();`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, `sqlite:${file}`], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const mine = [];
    for (let i = 0; i < 150; i++) mine.push(store.applyCtaChange("cta-x", {note: `parent ${i}`}, ana));
    await Promise.all(mine);
    expect(await exited, stderr).toBe(0);
    const timeline = await store.timeline("cta-x");
    expect(timeline).toHaveLength(300);
    expect((await store.ctaStates(["cta-x"]))[0]!.version).toBe(300);
    await store.close();
  });
});

describe("operational store setting errors", () => {
  const secret = "s3cr3t-Pa55";

  it("names SAASGUARD_STORE and what is wrong, never the password", async () => {
    const cases: [string, RegExp][] = [
      [`mysql://app:${secret}@db.internal/saasguard`, /unknown store "mysql:\/\/app:\*\*\*@db\.internal\/saasguard"/],
      [`postgres://app:${secret}@/`, /is not a valid PostgreSQL URL/],
      [`postgres://app:${secret}@db.internal`, /needs a host and a database name/],
      ["sqlite:", /names no file/],
      ["https://example.com/store", /unknown store/],
    ];
    for (const [setting, message] of cases) {
      const error = await openStore(setting).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, setting).toBeInstanceOf(StoreSettingError);
      const text = String((error as Error).message);
      expect(text).toMatch(/SAASGUARD_STORE/);
      expect(text).toMatch(message);
      expect(text).not.toContain(secret);
      expect(text).toMatch(/use sqlite:<path>, a file path, or postgres:\/\//);
    }
    expect(redact(`postgres://app:${secret}@h:5432/db`)).toBe("postgres://app:***@h:5432/db");
    expect(redact(`weird//app:${secret}@host`)).toBe("weird//app:***@host");
  });

  it("a PostgreSQL it cannot reach fails at open, naming the store without its password", async () => {
    const error = await openStore(`postgres://app:${secret}@127.0.0.1:1/saasguard`).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /operational store postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/saasguard \(SAASGUARD_STORE\): cannot connect: .*ECONNREFUSED/,
    );
    expect(error?.message).not.toContain(secret);
  });

  it("a PostgreSQL database that does not exist fails at open, without the password", async () => {
    const cluster = await startPostgres();
    try {
      const url = cluster.url.replace("postgres@", `postgres:${secret}@`).replace(/\/postgres$/, "/no_such_db");
      const error = await openStore(url).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(
        /postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_db .*database "no_such_db" does not exist/,
      );
      expect(error?.message).not.toContain(secret);
    } finally {
      await cluster.stop();
    }
  });
});
