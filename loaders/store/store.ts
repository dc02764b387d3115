/**
 * The operational store on Kysely: one implementation for SQLite and PostgreSQL. Every write is
 * one transaction that updates the state and appends its audit rows, so a state never changes
 * without its record of who changed it.
 */
import {sql, type Kysely, type Selectable, type Transaction} from "kysely";
import {Migrator} from "kysely/migration";
import {
  migrationProvider,
  type AuditLogTable,
  type CtaStateTable,
  type Engine,
  type StoreDatabase,
} from "./migrations.ts";
import {
  StoreConflictError,
  StoreInputError,
  type Actor,
  type AuditEntry,
  type CapacityOverride,
  type CtaChange,
  type CtaState,
  type CtaWorkStatus,
  type OperationalStore,
} from "./types.ts";
import {errorText} from "./dialects.ts";
import {checkCapacity, checkCtaChange} from "./validate.ts";

/** ids per IN (…) list: far below SQLite's and PostgreSQL's bound-parameter limits */
const IDS_PER_QUERY = 500;

/**
 * Writes of all SQLite handles on one file in this process, one after another. SQLite allows one
 * writer at a time; a second handle in the same process waiting in busy_timeout would block the
 * very thread the first handle needs to finish its transaction. Other processes (the API beside
 * the nightly build) wait in busy_timeout as usual.
 */
const sqliteWriteQueues = new Map<string, Promise<unknown>>();

function queued<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (sqliteWriteQueues.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  sqliteWriteQueues.set(key, tail);
  void tail.then(() => {
    if (sqliteWriteQueues.get(key) === tail) sqliteWriteQueues.delete(key);
  });
  return run;
}

type NewAudit = Omit<AuditEntry, "id">;

/** Sorted by a text key in code-point order: the same on both engines, whatever the collation. */
const sortedBy = <T>(rows: T[], key: (row: T) => string): T[] =>
  rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

function toState(row: Selectable<CtaStateTable>): CtaState {
  return {
    ...row,
    status: row.status as CtaWorkStatus,
    priority_rank_at_change: row.priority_rank_at_change === null ? null : Number(row.priority_rank_at_change),
    version: Number(row.version),
  };
}

function toAudit(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    ...(row as Omit<AuditEntry, "id" | "detail">),
    id: Number(row.id),
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

export class KyselyStore implements OperationalStore {
  constructor(
    readonly kind: Engine,
    private readonly db: Kysely<StoreDatabase>,
    /** the SQLite file whose writes this handle queues with others; null on PostgreSQL */
    private readonly sqliteFile: string | null,
    /** where the store is, password redacted: for error messages */
    readonly location: string,
  ) {}

  /** Runs a write: queued per SQLite file in this process; errors say which store failed. */
  private async write<T>(fn: () => Promise<T>): Promise<T> {
    return this.named(() => (this.sqliteFile === null ? fn() : queued(this.sqliteFile, fn)));
  }

  private async named<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof StoreInputError || e instanceof StoreConflictError) throw e;
      throw new Error(`operational store ${this.location}: ${errorText(e)}`, {cause: e});
    }
  }

  /**
   * PostgreSQL: writers of one entity wait for each other (the lock ends with the transaction),
   * so two writes of the same new CTA cannot both insert it. SQLite's immediate transactions
   * are serial already.
   */
  private async lock(trx: Transaction<StoreDatabase>, key: string): Promise<void> {
    if (this.kind === "postgres") await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
  }

  private async appendAudit(trx: Transaction<StoreDatabase>, entries: NewAudit[]): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (const e of entries) {
      const {id} = await trx
        .insertInto("audit_log")
        .values({...e, detail: JSON.stringify(e.detail)})
        .returning("id")
        .executeTakeFirstOrThrow();
      out.push({id: Number(id), ...e});
    }
    return out;
  }

  async migrate(): Promise<string[]> {
    const migrator = new Migrator({db: this.db, provider: migrationProvider(this.kind)});
    const {error, results} = await this.write(() => migrator.migrateToLatest());
    if (error) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new Error(
        `operational store ${this.location}: migration ${failed ?? "set-up"} failed: ${errorText(error)}`,
        {cause: error},
      );
    }
    return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  }

  async ctaStates(ids?: readonly string[]): Promise<CtaState[]> {
    return this.named(async () => {
      if (ids === undefined)
        return sortedBy((await this.db.selectFrom("cta_state").selectAll().execute()).map(toState), (s) => s.cta_id);
      const unique = [...new Set(ids)];
      const out: CtaState[] = [];
      for (let i = 0; i < unique.length; i += IDS_PER_QUERY) {
        const chunk = unique.slice(i, i + IDS_PER_QUERY);
        const rows = await this.db.selectFrom("cta_state").selectAll().where("cta_id", "in", chunk).execute();
        out.push(...rows.map(toState));
      }
      return sortedBy(out, (s) => s.cta_id);
    });
  }

  async ctaStatesChangedSince(since: string | null): Promise<CtaState[]> {
    if (since !== null && Number.isNaN(Date.parse(since)))
      throw new StoreInputError([{field: "since", message: `must be an ISO time (got ${JSON.stringify(since)})`}]);
    return this.named(async () => {
      let q = this.db.selectFrom("cta_state").selectAll();
      if (since !== null) q = q.where("updated_at", ">", new Date(since).toISOString());
      return sortedBy((await q.execute()).map(toState), (s) => s.cta_id);
    });
  }

  async applyCtaChange(
    ctaId: string,
    change: CtaChange,
    actor: Actor,
    now: Date = new Date(),
  ): Promise<{state: CtaState; audit: AuditEntry[]}> {
    const c = checkCtaChange(ctaId, change, actor, now);
    const at = now.toISOString();
    return this.write(() =>
      this.db.transaction().execute(async (trx) => {
        await this.lock(trx, `cta:${ctaId}`);
        const row = await trx.selectFrom("cta_state").selectAll().where("cta_id", "=", ctaId).executeTakeFirst();
        // a CTA nobody has worked has no row: it is open, at version 0
        const before: CtaState = row
          ? toState(row)
          : {
              cta_id: ctaId,
              status: "open",
              snoozed_until: null,
              status_reason: null,
              assignee: null,
              priority_rank_at_change: null,
              first_action_at: null,
              updated_at: at,
              updated_by: actor.name,
              version: 0,
            };
        if (c.expected_version !== undefined && c.expected_version !== before.version)
          throw new StoreConflictError(ctaId, c.expected_version, before.version);

        const next = {...before};
        const entries: NewAudit[] = [];
        const record = (action: AuditEntry["action"], detail: Record<string, unknown>) =>
          entries.push({
            at,
            actor: actor.name,
            role: actor.role,
            via: actor.via,
            entity: "cta",
            entity_id: ctaId,
            action,
            detail,
          });

        if (c.status !== undefined) {
          const until = c.snoozed_until ?? null;
          const reason = c.status_reason ?? null;
          if (c.status !== before.status || until !== before.snoozed_until || reason !== before.status_reason) {
            Object.assign(next, {status: c.status, snoozed_until: until, status_reason: reason});
            // the rank now, so the build can tell a materially worse CTA from a re-fire of the same
            next.priority_rank_at_change = c.priority_rank ?? null;
            record("status", {
              from: before.status,
              to: c.status,
              ...(until !== null && {until}),
              ...(reason !== null && {reason}),
            });
          }
        }
        if (c.assignee !== undefined && c.assignee !== before.assignee) {
          next.assignee = c.assignee;
          record("assign", {from: before.assignee, to: c.assignee});
        }
        if (c.note !== undefined) record("note", {text: c.note});

        // nothing changes (a retried PATCH, "done" on a done CTA): write nothing
        if (entries.length === 0) return {state: before, audit: []};

        Object.assign(next, {updated_at: at, updated_by: actor.name, version: before.version + 1});
        if (next.first_action_at === null && actor.role !== "system") next.first_action_at = at;
        if (row) await trx.updateTable("cta_state").set(next).where("cta_id", "=", ctaId).execute();
        else await trx.insertInto("cta_state").values(next).execute();
        return {state: next, audit: await this.appendAudit(trx, entries)};
      }),
    );
  }

  async timeline(ctaId: string): Promise<AuditEntry[]> {
    return this.named(async () => {
      const rows = await this.db
        .selectFrom("audit_log")
        .selectAll()
        .where("entity", "=", "cta")
        .where("entity_id", "=", ctaId)
        .orderBy("id")
        .execute();
      return rows.map(toAudit);
    });
  }

  async audit(opts: {since?: string; limit?: number} = {}): Promise<AuditEntry[]> {
    const problems = [];
    const since = opts.since === undefined ? undefined : Date.parse(opts.since);
    if (since !== undefined && Number.isNaN(since))
      problems.push({field: "since", message: `must be an ISO time (got ${JSON.stringify(opts.since)})`});
    if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1))
      problems.push({field: "limit", message: "must be a whole number ≥ 1"});
    if (problems.length) throw new StoreInputError(problems);
    return this.named(async () => {
      let q = this.db.selectFrom("audit_log").selectAll().orderBy("id");
      // stored times are UTC ISO strings, so comparing them as text compares the instants
      if (since !== undefined) q = q.where("at", ">=", new Date(since).toISOString());
      if (opts.limit !== undefined) q = q.limit(opts.limit);
      return (await q.execute()).map(toAudit);
    });
  }

  async setCapacity(csm: string, hoursPerWeek: number | null, actor: Actor, now: Date = new Date()): Promise<void> {
    checkCapacity(csm, hoursPerWeek, actor);
    const at = now.toISOString();
    await this.write(() =>
      this.db.transaction().execute(async (trx) => {
        await this.lock(trx, `capacity:${csm}`);
        const row = await trx.selectFrom("capacity_override").selectAll().where("csm", "=", csm).executeTakeFirst();
        const from = row ? Number(row.hours_per_week) : null;
        if (from === hoursPerWeek) return;
        if (hoursPerWeek === null) await trx.deleteFrom("capacity_override").where("csm", "=", csm).execute();
        else
          await trx
            .insertInto("capacity_override")
            .values({csm, hours_per_week: hoursPerWeek, updated_at: at, updated_by: actor.name})
            .onConflict((oc) =>
              oc.column("csm").doUpdateSet({hours_per_week: hoursPerWeek, updated_at: at, updated_by: actor.name}),
            )
            .execute();
        const detail = {from, to: hoursPerWeek};
        await this.appendAudit(trx, [
          {
            at,
            actor: actor.name,
            role: actor.role,
            via: actor.via,
            entity: "capacity",
            entity_id: csm,
            action: "capacity",
            detail,
          },
        ]);
      }),
    );
  }

  async capacityOverrides(): Promise<CapacityOverride[]> {
    return this.named(async () => {
      const rows = await this.db.selectFrom("capacity_override").selectAll().execute();
      return sortedBy(
        rows.map((r) => ({...r, hours_per_week: Number(r.hours_per_week)})),
        (r) => r.csm,
      );
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
