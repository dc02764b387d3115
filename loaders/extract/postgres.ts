/**
 * PostgreSQL, as a source mapping reads it (loaders/sources.ts, DatabaseTable): one connection per
 * database, one read-only REPEATABLE READ transaction so every table of a night's extraction is
 * the same snapshot, and each query's rows copied out in bulk with COPY … TO STDOUT (CSV) into a
 * file DuckDB reads — never row by row through JavaScript objects.
 *
 * The URL comes from the environment variable the mapping names. It, and the password in it,
 * never appear in a message: every error is rewritten to name the variable instead.
 */
import {createWriteStream} from "node:fs";
import {pipeline} from "node:stream/promises";
import pg from "pg";
import {to as copyTo} from "pg-copy-streams";
import type {DatabaseTable} from "../sources.ts";

/** A database source that cannot be read: where (a mapping key or a database) and why, without credentials. */
export class DatabaseSourceError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
    /** the server could not be reached or the connection ended: nothing more can be read from it */
    readonly connectionLost = false,
  ) {
    super(`${where}: ${problem}`);
    this.name = "DatabaseSourceError";
  }
}

/** A column of a query's result: its name and the DuckDB type its PostgreSQL type is read as. */
export interface ResultColumn {
  name: string;
  /** PostgreSQL's type name, for messages */
  pgType: string;
  duckdbType: "BOOLEAN" | "BIGINT" | "DOUBLE" | "DATE" | "TIMESTAMP" | "TIMESTAMPTZ" | "VARCHAR";
}

/**
 * PostgreSQL's built-in type ids (pg_type.oid, stable across versions) and how DuckDB reads
 * their CSV text. numeric becomes DOUBLE (amounts); anything else — text, uuid, enums, json,
 * arrays — is kept as its text, which ingest types the way it types a file's cells.
 */
const TYPES: Record<number, [string, ResultColumn["duckdbType"]]> = {
  16: ["boolean", "BOOLEAN"],
  20: ["bigint", "BIGINT"],
  21: ["smallint", "BIGINT"],
  23: ["integer", "BIGINT"],
  700: ["real", "DOUBLE"],
  701: ["double precision", "DOUBLE"],
  1700: ["numeric", "DOUBLE"],
  1082: ["date", "DATE"],
  1114: ["timestamp", "TIMESTAMP"],
  1184: ["timestamptz", "TIMESTAMPTZ"],
  25: ["text", "VARCHAR"],
  1043: ["varchar", "VARCHAR"],
  1042: ["char", "VARCHAR"],
  2950: ["uuid", "VARCHAR"],
};

/** The query as a subquery: a trailing semicolon would end the statement around it. */
export const subquery = (query: string) => `(${query.trim().replace(/;\s*$/, "")})`;

/** An open connection to one of the mapping's databases, inside one read-only snapshot. */
export interface PostgresSource {
  /** the result columns of a query, without running it (LIMIT 0) */
  columns(query: string, where: string): Promise<ResultColumn[]>;
  /** runs COPY (query) TO STDOUT as CSV into `file`; returns the rows copied */
  copyToFile(query: string, file: string, where: string): Promise<number>;
  close(): Promise<void>;
}

/** The URL in `variable`, checked; never echoed. */
function urlFrom(db: Pick<DatabaseTable, "name" | "urlVariable">, env: NodeJS.ProcessEnv): string {
  const where = `databases.${db.name}.url`;
  const url = env[db.urlVariable];
  if (!url)
    throw new DatabaseSourceError(
      where,
      `the environment variable ${db.urlVariable} is not set (it holds the database's postgres:// URL)`,
    );
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new DatabaseSourceError(where, `$${db.urlVariable} does not hold a postgres:// or postgresql:// URL`);
  return url;
}

/**
 * An error from pg as a message naming the database by its variable: the URL and its password
 * are cut out of whatever the driver or server said, and the common causes are said plainly.
 * `connectionLost` tells the causes after which nothing more can be read from the database.
 */
export function explain(
  e: unknown,
  db: Pick<DatabaseTable, "name" | "urlVariable" | "timeoutSeconds">,
  url: string,
): {problem: string; connectionLost: boolean} {
  const err = e as Error & {code?: string};
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // an unparsable URL: pg said so itself
  }
  const scrub = (s: string) => {
    let out = s.split(url).join(`$${db.urlVariable}`);
    if (password) out = out.split(password).join("***");
    return out.split("\n")[0]!;
  };
  const said = scrub(err.message ?? String(e));
  const variable = `$${db.urlVariable}`;
  const told = (problem: string, connectionLost = false) => ({problem, connectionLost});
  switch (err.code) {
    case "28P01":
    case "28000":
      return told(`the server refused the credentials in ${variable} (${said}); check the user and password there`);
    case "3D000":
      return told(`the database named in ${variable} does not exist (${said})`);
    case "57014":
      return told(
        `the query ran longer than databases.${db.name}.timeoutSeconds (${db.timeoutSeconds} s) and PostgreSQL cancelled it`,
      );
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
      return told(`cannot reach the server in ${variable} (${said})`, true);
  }
  if (err.code?.startsWith("57P") || err.code?.startsWith("08") || /Connection terminated|ECONNRESET|EPIPE/.test(said))
    return told(`the connection to the database was lost (${said})`, true);
  if (err.code?.startsWith("42")) return told(`PostgreSQL refused the query: ${said}`);
  return told(err.code ? `PostgreSQL error ${err.code}: ${said}` : said);
}

/**
 * Connects to a mapping database: one read-only snapshot for everything read from it tonight,
 * ISO dates and UTC times in the CSV, every statement under the database's timeout.
 */
export async function openPostgres(
  db: Pick<DatabaseTable, "name" | "urlVariable" | "timeoutSeconds">,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostgresSource> {
  const url = urlFrom(db, env);
  const client = new pg.Client({
    connectionString: url,
    application_name: "saasguard-extract",
    statement_timeout: db.timeoutSeconds * 1000,
    connectionTimeoutMillis: 30_000,
  });
  // a server that goes away between queries emits 'error' on the client: it surfaces as the
  // next query's failure, so it must not crash the process here
  let lost: Error | null = null;
  client.on("error", (e) => (lost = e));
  const fail = (e: unknown, where: string): never => {
    const {problem, connectionLost} = explain(lost ?? e, db, url);
    throw new DatabaseSourceError(where, problem, connectionLost);
  };
  const at = `database ${db.name} ($${db.urlVariable})`;
  try {
    await client.connect();
    await client.query(
      "SET DateStyle = ISO, YMD; SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET IntervalStyle = iso_8601; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    );
  } catch (e) {
    await client.end().catch(() => {});
    fail(e, at);
  }
  return {
    async columns(query, where) {
      try {
        const r = await client.query(`SELECT * FROM ${subquery(query)} q LIMIT 0`);
        const names = r.fields.map((f) => f.name);
        const twice = names.filter((n, i) => names.indexOf(n) !== i);
        if (twice.length)
          throw new DatabaseSourceError(
            where,
            `the query returns column(s) ${[...new Set(twice)].join(", ")} more than once; name each once`,
          );
        return r.fields.map((f) => {
          const [pgType, duckdbType] = TYPES[f.dataTypeID] ?? [`type ${f.dataTypeID}`, "VARCHAR"];
          return {name: f.name, pgType, duckdbType};
        });
      } catch (e) {
        if (e instanceof DatabaseSourceError) throw e;
        return fail(e, where);
      }
    },
    async copyToFile(query, file, where) {
      try {
        const stream = client.query(copyTo(`COPY ${subquery(query)} TO STDOUT WITH (FORMAT csv)`));
        await pipeline(stream, createWriteStream(file));
        return stream.rowCount;
      } catch (e) {
        return fail(e, where);
      }
    },
    async close() {
      await client.query("COMMIT").catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
