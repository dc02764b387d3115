/**
 * The operational store's schema, as versioned migrations run by Kysely's Migrator. They live in
 * code (not a folder read at run time) so a bundled or installed copy cannot miss one. Never edit
 * a migration that has shipped: add the next one; the Migrator refuses a database whose applied
 * migrations are not a prefix of this list.
 *
 * Times are ISO-8601 UTC strings and dates YYYY-MM-DD strings on both engines, so the two read
 * back identically and sort as text.
 */
import {sql, type Generated, type Kysely} from "kysely";
import type {Migration, MigrationProvider} from "kysely/migration";
import {ACTOR_ROLES, ACTOR_VIAS, CTA_STATUSES, type CtaState} from "./types.ts";

/** A stored CTA state: the store's CtaState, with the status as the column holds it (text). */
export type CtaStateTable = Omit<CtaState, "status"> & {status: string};

export interface AuditLogTable {
  /** PostgreSQL returns its bigint as a string */
  id: Generated<number | string>;
  at: string;
  actor: string;
  role: string;
  via: string;
  entity: string;
  entity_id: string;
  action: string;
  /** JSON text */
  detail: string;
}

export interface CapacityOverrideTable {
  csm: string;
  hours_per_week: number;
  updated_at: string;
  updated_by: string;
}

/** A summary or answer the assistant gave (0002). Booleans are 0/1 on both engines, so they read back alike. */
export interface SummaryLogTable {
  id: string;
  kind: string;
  customer_id: string;
  audience: string;
  generator: string;
  guardrail_passed: number;
  flagged: number;
  data_version: string;
  created_at: string;
  created_by: string;
}

/** One person's rating of one summary (0002): the key is (summary_id, actor). */
export interface SummaryFeedbackTable {
  summary_id: string;
  actor: string;
  role: string;
  verdict: string;
  reason: string | null;
  at: string;
}

/** A CSM's call on a renewal (0003): append-only, the latest per (customer_id, renewal_date) counts. */
export interface RenewalCallTable {
  /** PostgreSQL returns its bigint as a string */
  id: Generated<number | string>;
  customer_id: string;
  renewal_date: string;
  call: string;
  note: string | null;
  actor: string;
  role: string;
  via: string;
  at: string;
}

export interface StoreDatabase {
  cta_state: CtaStateTable;
  audit_log: AuditLogTable;
  capacity_override: CapacityOverrideTable;
  summary_log: SummaryLogTable;
  summary_feedback: SummaryFeedbackTable;
  renewal_call: RenewalCallTable;
}

export type Engine = "sqlite" | "postgres";

const oneOf = (column: string, values: readonly string[]) =>
  sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(", ")})`);

function initial(engine: Engine): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable("cta_state")
        .addColumn("cta_id", "text", (c) => c.primaryKey())
        .addColumn("status", "text", (c) => c.notNull().check(oneOf("status", CTA_STATUSES)))
        .addColumn("snoozed_until", "text")
        .addColumn("status_reason", "text")
        .addColumn("assignee", "text")
        .addColumn("priority_rank_at_change", "integer")
        .addColumn("first_action_at", "text")
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("updated_by", "text", (c) => c.notNull())
        .addColumn("version", "integer", (c) => c.notNull().check(sql`version >= 1`))
        .execute();

      await db.schema
        .createTable("audit_log")
        .addColumn("id", engine === "sqlite" ? "integer" : "bigint", (c) =>
          // SQLite: AUTOINCREMENT never reuses an id, even of the last row; PostgreSQL: ALWAYS
          // refuses an id supplied by a client
          engine === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
        )
        .addColumn("at", "text", (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull().check(oneOf("role", ACTOR_ROLES)))
        .addColumn("via", "text", (c) => c.notNull().check(oneOf("via", ACTOR_VIAS)))
        .addColumn("entity", "text", (c) => c.notNull().check(oneOf("entity", ["cta", "capacity"])))
        .addColumn("entity_id", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) =>
          c.notNull().check(oneOf("action", ["status", "note", "assign", "capacity"])),
        )
        .addColumn("detail", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("audit_log_entity").on("audit_log").columns(["entity", "entity_id", "id"]).execute();
      await db.schema.createIndex("audit_log_at").on("audit_log").column("at").execute();

      // The audit log is append-only in the database itself, not only in the code that writes it:
      // whoever holds the database credentials still cannot rewrite who did what.
      if (engine === "sqlite") {
        for (const op of ["UPDATE", "DELETE"])
          await sql
            .raw(
              `CREATE TRIGGER audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log
               BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: ${op} refused'); END`,
            )
            .execute(db);
      } else {
        await sql
          .raw(
            `CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$`,
          )
          .execute(db);
        await sql
          .raw(
            `CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
             FOR EACH ROW EXECUTE FUNCTION audit_log_refuse()`,
          )
          .execute(db);
        // TRUNCATE fires no row trigger: refuse it per statement
        await sql
          .raw(
            `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
             FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse()`,
          )
          .execute(db);
      }

      await db.schema
        .createTable("capacity_override")
        .addColumn("csm", "text", (c) => c.primaryKey())
        .addColumn("hours_per_week", "double precision", (c) => c.notNull())
        .addColumn("updated_at", "text", (c) => c.notNull())
        .addColumn("updated_by", "text", (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * 0002 (issue #18): the assistant's summary log and the CSMs' ratings of it, and the audit log
 * widened to record those ratings (entity `summary`, action `feedback`).
 *
 * The lists are written out here, not imported from types.ts: a migration is a fixed step, and a
 * later widening is the next migration's to make.
 */
function assistantFeedback(engine: Engine): Migration {
  const entities = ["cta", "capacity", "summary"];
  const actions = ["status", "note", "assign", "capacity", "feedback"];
  return {
    async up(db) {
      // SQLite runs migrations outside a transaction (Kysely: no transactional DDL there): this one
      // rebuilds the audit log, so it runs in one of its own — a crash leaves the old table whole.
      // PostgreSQL's Migrator already runs each migration in a transaction.
      if (engine === "sqlite") await sql`begin immediate`.execute(db);
      try {
        await db.schema
          .createTable("summary_log")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("kind", "text", (c) => c.notNull().check(oneOf("kind", ["summary", "answer"])))
          .addColumn("customer_id", "text", (c) => c.notNull())
          .addColumn("audience", "text", (c) => c.notNull().check(oneOf("audience", ["csm", "executive"])))
          .addColumn("generator", "text", (c) => c.notNull().check(oneOf("generator", ["llm", "builtin"])))
          .addColumn("guardrail_passed", "integer", (c) => c.notNull().check(sql`guardrail_passed in (0, 1)`))
          .addColumn("flagged", "integer", (c) => c.notNull().check(sql`flagged in (0, 1)`))
          .addColumn("data_version", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .execute();
        // the quality report reads a window of recent summaries
        await db.schema.createIndex("summary_log_created_at").on("summary_log").column("created_at").execute();

        await db.schema
          .createTable("summary_feedback")
          .addColumn("summary_id", "text", (c) => c.notNull().references("summary_log.id"))
          .addColumn("actor", "text", (c) => c.notNull())
          // people rate; the build (role system) does not
          .addColumn("role", "text", (c) => c.notNull().check(oneOf("role", ["csm", "lead", "admin"])))
          .addColumn("verdict", "text", (c) => c.notNull().check(oneOf("verdict", ["accurate", "inaccurate"])))
          .addColumn("reason", "text")
          .addColumn("at", "text", (c) => c.notNull())
          // one rating per person per summary: rating again replaces it
          .addPrimaryKeyConstraint("summary_feedback_pk", ["summary_id", "actor"])
          .execute();

        if (engine === "postgres") {
          // column CHECKs made by 0001 carry PostgreSQL's default names <table>_<column>_check
          for (const [column, values] of [
            ["entity", entities],
            ["action", actions],
          ] as const)
            await sql
              .raw(
                `ALTER TABLE audit_log DROP CONSTRAINT audit_log_${column}_check,
                 ADD CONSTRAINT audit_log_${column}_check CHECK (${column} in (${values.map((v) => `'${v}'`).join(", ")}))`,
              )
              .execute(db);
        } else await rebuildSqliteAuditLog(db, entities, actions);
        if (engine === "sqlite") await sql`commit`.execute(db);
      } catch (e) {
        if (engine === "sqlite") await sql`rollback`.execute(db);
        throw e;
      }
    },
  };
}

/**
 * SQLite cannot change a CHECK constraint in place: the table is made again with the wider lists
 * (SQLite's documented procedure: new table, copy, drop, rename), with its indexes, its
 * append-only triggers and its AUTOINCREMENT counter, so no id is ever reused. Dropping the old
 * table drops its triggers first, so the copy-and-drop is not refused as a DELETE.
 */
async function rebuildSqliteAuditLog(db: Kysely<unknown>, entities: string[], actions: string[]): Promise<void> {
  const seq = await sql<{seq: number}>`select seq from sqlite_sequence where name = 'audit_log'`.execute(db);
  await db.schema
    .createTable("audit_log_next")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("role", "text", (c) => c.notNull().check(oneOf("role", ACTOR_ROLES)))
    .addColumn("via", "text", (c) => c.notNull().check(oneOf("via", ACTOR_VIAS)))
    .addColumn("entity", "text", (c) => c.notNull().check(oneOf("entity", entities)))
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull().check(oneOf("action", actions)))
    .addColumn("detail", "text", (c) => c.notNull())
    .execute();
  await sql
    .raw(
      `INSERT INTO audit_log_next (id, at, actor, role, via, entity, entity_id, action, detail)
       SELECT id, at, actor, role, via, entity, entity_id, action, detail FROM audit_log ORDER BY id`,
    )
    .execute(db);
  await sql.raw("DROP TABLE audit_log").execute(db);
  await sql.raw("ALTER TABLE audit_log_next RENAME TO audit_log").execute(db);
  const last = seq.rows[0]?.seq;
  if (last !== undefined)
    await sql`update sqlite_sequence set seq = max(seq, ${last}) where name = 'audit_log'`.execute(db);
  await db.schema.createIndex("audit_log_entity").on("audit_log").columns(["entity", "entity_id", "id"]).execute();
  await db.schema.createIndex("audit_log_at").on("audit_log").column("at").execute();
  for (const op of ["UPDATE", "DELETE"])
    await sql
      .raw(
        `CREATE TRIGGER audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: ${op} refused'); END`,
      )
      .execute(db);
}

/**
 * 0003 (issue #17): the CSMs' calls on renewals. Append-only — a call is its own record of who
 * called what and when, so it needs no audit row; a newer call supersedes the older. The lists are
 * written out here (see 0002).
 */
function renewalCalls(engine: Engine): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable("renewal_call")
        .addColumn("id", engine === "postgres" ? "bigserial" : "integer", (c) =>
          engine === "postgres" ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn("customer_id", "text", (c) => c.notNull())
        .addColumn("renewal_date", "text", (c) => c.notNull())
        .addColumn("call", "text", (c) => c.notNull().check(oneOf("call", ["commit", "likely", "at_risk", "lost"])))
        .addColumn("note", "text")
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull().check(oneOf("role", ["csm", "lead", "admin"])))
        .addColumn("via", "text", (c) => c.notNull())
        .addColumn("at", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("renewal_call_account")
        .on("renewal_call")
        .columns(["customer_id", "renewal_date", "id"])
        .execute();
    },
  };
}

/** The migrations in order; names sort in application order (the Migrator checks it). */
export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return {
        "0001_cta_work": initial(engine),
        "0002_assistant_feedback": assistantFeedback(engine),
        "0003_renewal_calls": renewalCalls(engine),
      };
    },
  };
}
