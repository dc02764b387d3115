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
  type RenewalCallTable,
  type StoreDatabase,
  type SummaryFeedbackTable,
  type SummaryLogTable,
} from "./migrations.ts";
import {
  StoreConflictError,
  StoreInputError,
  StoreNotFoundError,
  type Actor,
  type AssistantQualityRow,
  type AuditEntry,
  type CapacityOverride,
  type CtaChange,
  type CtaState,
  type CtaWorkStatus,
  type FeedbackVerdict,
  type OperationalStore,
  type RenewalCall,
  type RenewalCallKind,
  type SummaryFeedback,
  type SummaryRecord,
} from "./types.ts";
import {errorText} from "./dialects.ts";
import {
  checkCapacity,
  checkCtaChange,
  checkRenewalCall,
  checkSince,
  checkSummaryFeedback,
  checkSummaryRecord,
} from "./validate.ts";

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

function toRenewalCall(row: Selectable<RenewalCallTable>): RenewalCall {
  return {
    id: Number(row.id),
    customer_id: row.customer_id,
    renewal_date: row.renewal_date,
    call: row.call as RenewalCallKind,
    note: row.note,
    actor: row.actor,
    role: row.role as RenewalCall["role"],
    at: row.at,
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
      if (e instanceof StoreInputError || e instanceof StoreConflictError || e instanceof StoreNotFoundError) throw e;
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

  async recordSummary(rec: SummaryRecord): Promise<void> {
    const r = checkSummaryRecord(rec);
    await this.write(async () => {
      // a summary served again (from the cache) under its id is the same summary: keep the first record
      await this.db
        .insertInto("summary_log")
        .values({...r, guardrail_passed: r.guardrail_passed ? 1 : 0, flagged: r.flagged ? 1 : 0})
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
    });
  }

  async summaryRecord(id: string): Promise<SummaryRecord | null> {
    return this.named(async () => {
      const row = await this.db.selectFrom("summary_log").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? toSummary(row) : null;
    });
  }

  async addSummaryFeedback(
    summaryId: string,
    fb: {verdict: FeedbackVerdict; reason?: string | null},
    actor: Actor,
    now: Date = new Date(),
  ): Promise<SummaryFeedback> {
    const {verdict, reason} = checkSummaryFeedback(summaryId, fb, actor);
    const at = now.toISOString();
    return this.write(() =>
      this.db.transaction().execute(async (trx) => {
        await this.lock(trx, `summary:${summaryId}:${actor.name}`);
        const summary = await trx.selectFrom("summary_log").select("id").where("id", "=", summaryId).executeTakeFirst();
        if (!summary) throw new StoreNotFoundError("summary", summaryId);
        const before = await trx
          .selectFrom("summary_feedback")
          .selectAll()
          .where("summary_id", "=", summaryId)
          .where("actor", "=", actor.name)
          .executeTakeFirst();
        // the same rating sent again (a retried request) writes nothing
        if (before && before.verdict === verdict && before.reason === reason) return toFeedback(before);
        const next = {summary_id: summaryId, actor: actor.name, role: actor.role, verdict, reason, at};
        if (before)
          await trx
            .updateTable("summary_feedback")
            .set({role: actor.role, verdict, reason, at})
            .where("summary_id", "=", summaryId)
            .where("actor", "=", actor.name)
            .execute();
        else await trx.insertInto("summary_feedback").values(next).execute();
        await this.appendAudit(trx, [
          {
            at,
            actor: actor.name,
            role: actor.role,
            via: actor.via,
            entity: "summary",
            entity_id: summaryId,
            action: "feedback",
            detail: {
              ...(before && {from: before.verdict}),
              to: verdict,
              ...(reason !== null && {reason}),
            },
          },
        ]);
        return toFeedback(next);
      }),
    );
  }

  async assistantQuality(opts: {since?: string} = {}): Promise<AssistantQualityRow[]> {
    const since = checkSince(opts.since);
    return this.named(async () => {
      // grouped by day in SQL (text functions both engines share), folded into ISO weeks here;
      // summaries and ratings are counted apart, so a summary rated by three people is made once
      const day = sql<string>`substr(s.created_at, 1, 10)`;
      let made = this.db
        .selectFrom("summary_log as s")
        .select([
          day.as("day"),
          "s.generator",
          "s.audience",
          (eb) => eb.fn.countAll().as("made"),
          (eb) => eb.fn.sum("s.guardrail_passed").as("passed"),
        ])
        .groupBy([day, "s.generator", "s.audience"]);
      let rated = this.db
        .selectFrom("summary_feedback as f")
        .innerJoin("summary_log as s", "s.id", "f.summary_id")
        .select([
          day.as("day"),
          "s.generator",
          "s.audience",
          (eb) => eb.fn.countAll().as("rated"),
          sql<number>`sum(case when f.verdict = 'accurate' then 1 else 0 end)`.as("accurate"),
        ])
        .groupBy([day, "s.generator", "s.audience"]);
      if (since !== undefined) {
        made = made.where("s.created_at", ">=", since);
        rated = rated.where("s.created_at", ">=", since);
      }
      const out = new Map<string, AssistantQualityRow>();
      const row = (d: string, generator: string, audience: string) => {
        const week = isoWeek(d);
        const key = `${week}|${generator}|${audience}`;
        let r = out.get(key);
        if (!r)
          out.set(
            key,
            (r = {
              week,
              generator: generator as AssistantQualityRow["generator"],
              audience: audience as AssistantQualityRow["audience"],
              made: 0,
              guardrail_passed: 0,
              rated: 0,
              accurate: 0,
            }),
          );
        return r;
      };
      // PostgreSQL returns count and sum as bigint strings
      for (const m of await made.execute()) {
        const r = row(m.day, m.generator, m.audience);
        r.made += Number(m.made);
        r.guardrail_passed += Number(m.passed ?? 0);
      }
      for (const f of await rated.execute()) {
        const r = row(f.day, f.generator, f.audience);
        r.rated += Number(f.rated);
        r.accurate += Number(f.accurate ?? 0);
      }
      return [...out.values()].sort((a, b) =>
        a.week !== b.week
          ? a.week < b.week
            ? -1
            : 1
          : `${a.generator}|${a.audience}` < `${b.generator}|${b.audience}`
            ? -1
            : 1,
      );
    });
  }

  async recordRenewalCall(
    input: {customer_id: string; renewal_date: string; call: RenewalCallKind; note?: string | null},
    actor: Actor,
    now: Date = new Date(),
  ): Promise<RenewalCall> {
    const c = checkRenewalCall(input, actor);
    const at = now.toISOString();
    return this.write(async () => {
      const row = await this.db
        .insertInto("renewal_call")
        .values({...c, actor: actor.name, role: actor.role, via: actor.via, at})
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRenewalCall(row);
    });
  }

  async latestRenewalCalls(customerIds?: readonly string[]): Promise<RenewalCall[]> {
    return this.named(async () => {
      const out: RenewalCall[] = [];
      const chunks = customerIds
        ? Array.from({length: Math.ceil(customerIds.length / IDS_PER_QUERY)}, (_, k) =>
            customerIds.slice(k * IDS_PER_QUERY, (k + 1) * IDS_PER_QUERY),
          )
        : [null];
      for (const ids of chunks) {
        if (ids && !ids.length) continue;
        let q = this.db
          .selectFrom("renewal_call as r")
          .selectAll("r")
          // the newest call on each (account, renewal)
          .where(({not, exists, selectFrom}) =>
            not(
              exists(
                selectFrom("renewal_call as n")
                  .select("n.id")
                  .whereRef("n.customer_id", "=", "r.customer_id")
                  .whereRef("n.renewal_date", "=", "r.renewal_date")
                  .whereRef("n.id", ">", "r.id"),
              ),
            ),
          );
        if (ids) q = q.where("r.customer_id", "in", ids);
        out.push(...(await q.execute()).map(toRenewalCall));
      }
      return sortedBy(out, (r) => `${r.customer_id}\u0000${r.renewal_date}`);
    });
  }

  async renewalCallHistory(customerId: string): Promise<RenewalCall[]> {
    return this.named(async () =>
      (
        await this.db
          .selectFrom("renewal_call")
          .selectAll()
          .where("customer_id", "=", customerId)
          .orderBy("id")
          .execute()
      ).map(toRenewalCall),
    );
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** The Monday (UTC) of the ISO week of a YYYY-MM-DD date. */
export function isoWeek(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const back = (new Date(t).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return new Date(t - back * 86_400_000).toISOString().slice(0, 10);
}

function toSummary(row: Selectable<SummaryLogTable>): SummaryRecord {
  return {
    ...row,
    kind: row.kind as SummaryRecord["kind"],
    audience: row.audience as SummaryRecord["audience"],
    generator: row.generator as SummaryRecord["generator"],
    guardrail_passed: Number(row.guardrail_passed) === 1,
    flagged: Number(row.flagged) === 1,
  };
}

function toFeedback(row: Selectable<SummaryFeedbackTable>): SummaryFeedback {
  return {
    summary_id: row.summary_id,
    verdict: row.verdict as SummaryFeedback["verdict"],
    reason: row.reason,
    actor: row.actor,
    role: row.role as SummaryFeedback["role"],
    at: row.at,
  };
}
