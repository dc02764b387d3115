/**
 * The operational store: the writable database beside the read-only warehouse, for what people
 * change during the day. One setting picks where it lives:
 *
 *   SAASGUARD_STORE unset              → SQLite file data/operational.sqlite (the embedded default)
 *   SAASGUARD_STORE=sqlite:<path>|path → SQLite file <path>
 *   SAASGUARD_STORE=postgres://…       → PostgreSQL (for several API instances)
 *
 * Call `migrate()` once at start; it applies the migrations the database lacks.
 */
import {sql} from "kysely";
import {errorText, openPostgres, openSqlite, parseStoreSetting} from "./dialects.ts";
import {KyselyStore} from "./store.ts";
import type {OperationalStore} from "./types.ts";

export * from "./types.ts";
export {DEFAULT_SQLITE_FILE, redact} from "./dialects.ts";

/** Opens the store `setting` (default: SAASGUARD_STORE) names; PostgreSQL is connected to at once. */
export async function openStore(setting: string | undefined = process.env.SAASGUARD_STORE): Promise<OperationalStore> {
  const target = parseStoreSetting(setting);
  if (target.engine === "sqlite") {
    const where = target.file === ":memory:" ? "sqlite::memory:" : `sqlite:${target.file}`;
    // an in-memory database is private to its handle: nothing to queue its writes with
    const queueKey = target.file === ":memory:" ? `:memory:${Math.random()}` : target.file;
    return new KyselyStore("sqlite", openSqlite(target.file), queueKey, where);
  }
  const db = openPostgres(target.url, target.shown);
  try {
    // fail at start, with the store's name, rather than at the first request
    await sql`select 1`.execute(db);
  } catch (e) {
    await db.destroy();
    throw new Error(`operational store ${target.shown} (SAASGUARD_STORE): cannot connect: ${errorText(e)}`, {cause: e});
  }
  return new KyselyStore("postgres", db, null, target.shown);
}
