/**
 * The operational store's schema, as versioned migrations run by Kysely's Migrator. They live in
 * code (not a folder read at run time) so a bundled or installed copy cannot miss one. Never edit
 * a migration that has shipped: add the next one; the Migrator refuses a database whose applied
 * migrations are not a prefix of this list.
 *
 * Times are ISO-8601 UTC strings and dates YYYY-MM-DD strings on both engines, so the two read
 * back identically and sort as text.
 */
import {sql, type Generated} from "kysely";
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

export interface StoreDatabase {
  cta_state: CtaStateTable;
  audit_log: AuditLogTable;
  capacity_override: CapacityOverrideTable;
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

/** The migrations in order; names sort in application order (the Migrator checks it). */
export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return {"0001_cta_work": initial(engine)};
    },
  };
}
