/**
 * Where the operational store lives: one setting (SAASGUARD_STORE, or openStore's argument)
 * chooses SQLite or PostgreSQL, and this module opens a Kysely instance for it.
 */
import {mkdirSync} from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import {CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, type DatabaseConnection} from "kysely";
import pg from "pg";
import type {Engine, StoreDatabase} from "./migrations.ts";
import {StoreSettingError} from "./types.ts";

export const DEFAULT_SQLITE_FILE = "data/operational.sqlite";
/**
 * how long a SQLite write waits for another process's write (the API and the nightly build share
 * the file) before failing: writes are single small transactions, so seconds are plenty
 */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export type StoreTarget = {engine: "sqlite"; file: string} | {engine: "postgres"; url: string; shown: string};

/** The setting with any password replaced by ***, for errors and logs. */
export function redact(setting: string): string {
  try {
    const u = new URL(setting);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    // not a URL we can parse: blank whatever sits between "//user:" and "@"
    return setting.replace(/(\/\/[^/:@]*:)[^@/]*@/, "$1***@");
  }
}

/**
 * Reads a store setting: unset → the SQLite file data/operational.sqlite; `sqlite:<path>` or a
 * plain path → SQLite; `postgres://…` / `postgresql://…` → PostgreSQL.
 */
export function parseStoreSetting(setting: string | undefined): StoreTarget {
  const s = setting?.trim() ?? "";
  if (s === "") return {engine: "sqlite", file: path.resolve(DEFAULT_SQLITE_FILE)};
  const help =
    "use sqlite:<path>, a file path, or postgres://user:password@host:port/database (unset = SQLite at " +
    `${DEFAULT_SQLITE_FILE})`;
  if (/^postgres(ql)?:\/\//i.test(s)) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new StoreSettingError(`SAASGUARD_STORE: "${redact(s)}" is not a valid PostgreSQL URL; ${help}`);
    }
    if (!u.hostname || u.pathname.length <= 1)
      throw new StoreSettingError(`SAASGUARD_STORE: "${redact(s)}" needs a host and a database name; ${help}`);
    return {engine: "postgres", url: s, shown: redact(s)};
  }
  if (/^sqlite:/i.test(s)) {
    const file = s.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (file.trim() === "") throw new StoreSettingError(`SAASGUARD_STORE: "${s}" names no file; ${help}`);
    return {engine: "sqlite", file: file === ":memory:" ? file : path.resolve(file)};
  }
  // any other scheme (mysql://, https:, …) is a mistake, not a file name
  if (/^[a-z][a-z0-9+.-]*:/i.test(s))
    throw new StoreSettingError(`SAASGUARD_STORE: unknown store "${redact(s)}"; ${help}`);
  return {engine: "sqlite", file: path.resolve(s)};
}

/**
 * SQLite's plain BEGIN takes the write lock only at the first write, and a transaction that
 * read first and then finds the lock taken fails at once (busy_timeout does not apply to that
 * upgrade). Every transaction of this store writes, so it takes the lock up front and waits.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly database: Database.Database) {
    super({database});
  }
  override createDriver() {
    return new ImmediateSqliteDriver({database: this.database});
  }
}

export function openSqlite(file: string): Kysely<StoreDatabase> {
  if (file !== ":memory:") mkdirSync(path.dirname(file), {recursive: true});
  let database: Database.Database;
  try {
    database = new Database(file);
  } catch (e) {
    throw new StoreSettingError(`SAASGUARD_STORE: cannot open the SQLite file ${file}: ${(e as Error).message}`);
  }
  // WAL: readers never wait for the writer, so the API keeps answering while the build writes;
  // NORMAL is durable in WAL mode except for the last transactions on a power loss
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.pragma("foreign_keys = ON");
  return new Kysely<StoreDatabase>({dialect: new ImmediateSqliteDialect(database)});
}

export function openPostgres(url: string, shown: string): Kysely<StoreDatabase> {
  const pool = new pg.Pool({connectionString: url, max: 10, application_name: "saasguard-store"});
  // an idle client's error (the server restarted) would otherwise crash the process
  pool.on("error", (e) => console.error(`operational store ${shown}: idle connection lost: ${e.message}`));
  return new Kysely<StoreDatabase>({dialect: new PostgresDialect({pool})});
}

/** An error's text; Node's connection errors can have an empty message and only a code. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.message) return e.message;
  const code = (e as {code?: string}).code;
  if (e instanceof AggregateError) return e.errors.map(errorText).join("; ") || code || e.name;
  return code ?? e.name;
}

export type {Engine};
