/**
 * Where each raw table's rows come from: the folder convention (data/raw/<table>.csv) or a
 * source mapping — one reviewed JSON file that says, per raw table, which file holds it, how its
 * columns map (a rename, or a DuckDB SQL expression over the file's columns) and how its values
 * map (`{"Pro": "Growth"}`). A team's own exports then build without an ETL job:
 *
 *   {
 *     "tables": {
 *       "customers": {
 *         "from": "exports/accounts.csv",
 *         "columns": {"customer_id": "Account ID", "arr": "Annual Revenue",
 *                     "company_size": {"sql": "CASE WHEN \"Employees\" < 51 THEN '1-50' ELSE '51-200' END"}},
 *         "values": {"plan_tier": {"Pro": "Growth", "Business": "Enterprise"}}
 *       }
 *     }
 *   }
 *
 * Columns the mapping does not name are taken from the file under their contract name, and
 * tables it does not list from `folder` by the folder convention, so a mapping only says what
 * differs. `presets` start it from vendors' export layouts (presets/<vendor>.json), which it
 * overrides field by field; `lookups` are further files its SQL reads as `lookup.<name>` (the
 * mapped row is `src`); a table's `where` keeps the rows the table holds. Paths are relative to the mapping file. The mapping is checked
 * with zod (every error names its key: `tables.customers.columns.arr`); DuckDB does all reading
 * and transforming.
 */
import {existsSync, readdirSync, readFileSync} from "node:fs";
import {dirname, extname, join, relative, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {z} from "zod";
import {resolveVocabulary, VocabularySchema, type Vocabulary} from "../src/rules/vocabulary.ts";
import {CONTRACT} from "./contract.ts";

export type SourceFormat = "csv" | "tsv" | "parquet" | "json" | "jsonl" | "database";

/** One raw table's source, as ingest reads it. */
export interface TableSource {
  /** the file (or, for Parquet and JSON, a glob DuckDB expands) */
  path: string;
  format: SourceFormat;
  /** contract column → DuckDB SQL over the file's columns (absent: the column under its own name) */
  columns: Record<string, string>;
  /** contract column → source value → value */
  values: Record<string, Record<string, string>>;
  /** where the mapping said it, for error messages (`tables.customers`), or null for the folder convention */
  mappingKey: string | null;
  /** how this source's records find their account when its ids are another system's */
  account?: AccountMatch;
  /** the time zone times with an offset are converted to (IANA name) */
  timezone?: string;
  /** the vendor preset the table's mapping starts from, if any */
  preset?: string;
  /** SQL over the file's columns: the rows kept (for an event log, the events counted) */
  where?: string;
  /** usage_events only: the file is a raw event log, aggregated by ingest into daily usage */
  events?: EventLog;
  /** the rows come from a query on a database (format "database"; path is a label, not a file) */
  database?: DatabaseTable;
}

/**
 * A raw table read from a database (loaders/extract/): the query's rows are copied in bulk into
 * the warehouse's extract.<table> before ingest, then read like a file. For usage_events with
 * `events`, the aggregation to daily usage runs in the database (pushed down).
 */
export interface DatabaseTable {
  /** the mapping's name for the database (`databases.<name>`) */
  name: string;
  /** the environment variable holding its postgres:// URL (never the URL itself) */
  urlVariable: string;
  /** the database cancels a query running longer than this */
  timeoutSeconds: number;
  /** PostgreSQL SQL whose rows are the table (a `table` is `SELECT * FROM <table>`) */
  query: string;
  /** incremental extraction: the rows past the last successful build's cursor */
  cursor?: Cursor;
}

/**
 * A column that grows with every change (updated_at) or event (its time): a nightly run reads
 * only rows at or past (last cursor − lateArrivalDays), and replaces the rows it read again —
 * by `key` for a table of records, by day for an event log's daily aggregates.
 */
export interface Cursor {
  /** a column of the query's result (a table of records); for an event log, its `events.at` SQL */
  column: string;
  /** the columns identifying a record (a table of records only) */
  key: string[];
  lateArrivalDays: number;
}

/**
 * A raw product-analytics event log (Segment, Amplitude, Mixpanel exports): one row per event.
 * Ingest aggregates it in DuckDB into raw.usage_events — events per account, day and name, and
 * distinct active users per account and day (the `active_users` rows) — and the aggregated rows
 * have the columns account_id, event_date, event_type and event_count (what `account` matching
 * and value maps then read). Each field is DuckDB SQL over the file's columns.
 */
export interface EventLog {
  /** when the event happened: a timestamp (with or without offset), ISO text, or epoch seconds/ms */
  at: string;
  /** the event's name (the installation's words: the vocabulary's usageEvents) */
  name: string;
  /** the account (group / company) the event belongs to */
  account: string;
  /** the user who did it; distinct users per day become the active_users rows */
  user?: string;
}

/**
 * Accounts across systems: a Stripe customer id, a Zendesk organisation id or a HubSpot company id
 * is not the CRM's customer id. A record's account is, in this order: `key` (SQL giving the CRM id,
 * e.g. a metadata field) when it names a customer; the crosswalk row for (`system`, `id`); the one
 * customer whose contact e-mail has the record's e-mail domain (`emailDomain`, opt-in). A record
 * none of these match is never dropped: it keeps `?<system>:<id>` as its customer id and fails
 * the reference check (or is quarantined with --lenient), listed with that id.
 */
export interface AccountMatch {
  system: string;
  /** SQL: the record's id in its own system */
  id: string;
  key?: string;
  emailDomain?: string;
  /** the crosswalk file (customer_id, system, external_id), if the mapping has one */
  crosswalk: string | null;
}

export type SourcePlan = Map<string, TableSource>;

const TABLES = CONTRACT.map((t) => t.name);
const columnsOf = (table: string) => CONTRACT.find((t) => t.name === table)!.columns.map((c) => c.name);

const ColumnMap = z.union([
  z.string().min(1, {message: "must name a column of the file"}),
  z.strictObject({sql: z.string().min(1, {message: "must be a DuckDB SQL expression"})}),
]);
const Format = z.enum(["csv", "tsv", "parquet", "json", "jsonl"]);
const FilePath = z.string({error: "must be a file path (relative to the mapping file)"}).min(1, {
  message: "must be a file path (relative to the mapping file)",
});
const Events = z.strictObject({at: ColumnMap, name: ColumnMap, account: ColumnMap, user: ColumnMap.optional()});
const Account = z.strictObject({
  system: z.string({error: "must name the system the ids come from"}).min(1, {
    message: 'must name the system the ids come from ("stripe", "zendesk" …)',
  }),
  id: ColumnMap,
  key: ColumnMap.optional(),
  emailDomain: ColumnMap.optional(),
});

/** A database the mapping reads tables from: where its URL is, never the URL itself. */
const Database = z.strictObject({
  /** the environment variable holding the postgres:// URL (credentials never go in files) */
  url: z.string({error: "must name the environment variable holding the database URL"}).superRefine((v, ctx) => {
    // the value is never repeated in the message: it may be a URL with a password
    if (v.includes("://"))
      ctx.addIssue({
        code: "custom",
        message:
          "must name the environment variable holding the URL (such as APP_DATABASE_URL), not the URL: credentials never go in files",
      });
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v))
      ctx.addIssue({code: "custom", message: "must be an environment variable's name (letters, digits and _)"});
  }),
  /** PostgreSQL cancels a statement running longer than this (statement_timeout) */
  timeoutSeconds: z.number().int().positive().max(86_400).default(3_600),
});

const Cursor = z.strictObject({
  column: z.string().min(1, {message: "must name the column (updated_at, an event time)"}),
  key: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** rows arriving this many days late are still picked up */
  lateArrivalDays: z.number().int().min(0).max(366).default(3),
});

/** A table read from one of the mapping's databases: a query (or a whole table) and its cursor. */
const DatabaseFrom = z
  .strictObject({
    database: z.string().min(1, {message: "must name one of the mapping's databases"}),
    query: z.string().min(1).optional(),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, {
        message: "must be a table name (schema.table); use query for anything else",
      })
      .optional(),
    cursor: Cursor.optional(),
  })
  .refine((f) => (f.query === undefined) !== (f.table === undefined), {
    message: "give either query (PostgreSQL SQL) or table, not both and not neither",
  });

/** Where a table's rows are: a file (or glob), or a query on one of the mapping's databases. */
const From = z.union([FilePath, DatabaseFrom], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? 'must be a file path (relative to the mapping file), or a database query ({"database": …, "query": …})'
      : undefined,
});

/** One raw table's source as it is used: a preset's with the mapping's own fields over it. */
const TableMapping = z.strictObject({
  from: From,
  format: Format.optional(),
  columns: z.record(z.string(), ColumnMap).default({}),
  values: z.record(z.string(), z.record(z.string(), z.string())).default({}),
  /** DuckDB SQL over the file's columns: the rows this table keeps (an export holding more than it) */
  where: z.string().min(1, {message: "must be a DuckDB SQL condition over the file's columns"}).optional(),
  timezone: z.string().optional(),
  events: Events.optional(),
  account: Account.optional(),
});
type TableMappingT = z.infer<typeof TableMapping>;

/** What a mapping says about a table: every field optional where a preset gives the table; null leaves a preset's table out. */
const TableOverride = TableMapping.extend({
  from: From.optional(),
  /** null: the column is not in this installation's export (a preset's custom field it lacks) */
  columns: z.record(z.string(), ColumnMap.nullable()).optional(),
  values: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  account: Account.partial().optional(),
}).nullable();

/** A file read beside the tables that SQL expressions can look values up in, as `lookup.<name>`. */
const Lookup = z.strictObject({from: FilePath, format: Format.optional()});

/** A preset: a vendor's export layout as a mapping fragment (presets/<name>.json). */
export const PresetSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().min(1),
  /** where the layout's names come from (the vendor's documentation) */
  layout: z.string().min(1),
  tables: z.record(z.string(), TableMapping).default({}),
  lookups: z.record(z.string(), Lookup).default({}),
  vocabulary: VocabularySchema.optional(),
});
export type Preset = z.infer<typeof PresetSchema>;

export const MappingSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /**
   * vendor layouts this mapping starts from (presets/<name>.json), with the folder their files
   * are in; the mapping's own tables, lookups and vocabulary override theirs field by field
   */
  presets: z
    .array(z.union([z.string().min(1), z.strictObject({name: z.string().min(1), folder: z.string().min(1)})]))
    .default([]),
  /** databases tables can be read from (`"from": {"database": "<name>", "query": …}`) */
  databases: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/, {message: "lower-case letters, digits and _"}), Database)
    .default({}),
  /** tables the mapping does not list come from this folder by the convention (<table>.csv or .parquet) */
  folder: z.string().min(1).optional(),
  /** the installation's time zone (IANA name): times with an offset become its local time */
  timezone: z.string().optional(),
  /** a CSV with customer_id, system, external_id: which CRM account each other system's id is */
  crosswalk: z.string().min(1).optional(),
  tables: z.record(z.string(), TableOverride).default({}),
  /** files SQL expressions look values up in, as lookup.<name> (null leaves a preset's out) */
  lookups: z.record(z.string(), Lookup.nullable()).default({}),
  /**
   * the installation's own words and what they mean (src/rules/vocabulary.ts): plan tiers with
   * their ARR ceilings, ticket priorities and categories, CRM stages, event names …
   */
  vocabulary: VocabularySchema.optional(),
});
export type Mapping = z.infer<typeof MappingSchema>;

/** zod's issues as problem lines, each naming its key. */
const issueLines = (e: z.ZodError) => e.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);

/** The folder of the shipped presets. */
export const PRESETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../presets");

/** The shipped presets' names. */
export function presetNames(): string[] {
  return readdirSync(PRESETS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** Reads and checks a shipped preset. Throws MappingError naming the preset file. */
export function readPreset(name: string): Preset {
  const file = join(PRESETS_DIR, `${name}.json`);
  const parsed = PresetSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new MappingError(relative(process.cwd(), file), issueLines(parsed.error));
  return parsed.data;
}

/** A mapping that cannot be used: one line per problem, each naming the file and the key. */
export class MappingError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: the source mapping cannot be used:\n  ${problems.join("\n  ")}`);
    this.name = "MappingError";
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function formatOf(path: string): SourceFormat | null {
  const ext = extname(path.replace(/\*+$/, "")).toLowerCase();
  return ext === ".csv"
    ? "csv"
    : ext === ".tsv" || ext === ".tab"
      ? "tsv"
      : ext === ".parquet"
        ? "parquet"
        : ext === ".json"
          ? "json"
          : ext === ".jsonl" || ext === ".ndjson"
            ? "jsonl"
            : null;
}

/** A file SQL expressions can look values up in (`lookup.<name>`), loaded before the tables. */
export interface LookupSource {
  name: string;
  path: string;
  format: SourceFormat;
}

/** A mapping file read and checked: what ingest needs. */
export interface MappingSource {
  plan: SourcePlan;
  mappingFile: string;
  /** the demo's vocabulary with the presets' and the mapping's own words over it */
  vocabulary: Vocabulary;
  lookups: LookupSource[];
}

/** Reads and checks a mapping file; returns the plan for ingest. Throws MappingError. */
export function loadMapping(file: string): SourcePlan {
  return readMapping(file).plan;
}

/** A preset's table with the mapping's fields over it: scalars replace, column and value maps merge. */
function overlay(base: TableMappingT | undefined, over: NonNullable<z.infer<typeof TableOverride>>): unknown {
  const defined = Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined));
  const values: Record<string, Record<string, string>> = {...base?.values};
  for (const [col, map] of Object.entries(over.values ?? {})) values[col] = {...values[col], ...map};
  return {
    ...base,
    ...defined,
    columns: Object.fromEntries(Object.entries({...base?.columns, ...over.columns}).filter(([, m]) => m !== null)),
    values,
    ...(base?.account || over.account ? {account: {...base?.account, ...over.account}} : {}),
  };
}

/**
 * The mapping's presets composed, with its own tables, lookups and vocabulary over them. Paths
 * come out relative to the mapping file (a preset's are relative to its folder there).
 */
function compose(
  m: Mapping,
  problems: string[],
): {
  tables: [string, TableMappingT][];
  presetOf: Map<string, string>;
  lookups: [string, z.infer<typeof Lookup>][];
  vocabulary: Vocabulary;
} {
  const tables = new Map<string, {t: TableMappingT; preset: string}>();
  const lookups = new Map<string, z.infer<typeof Lookup> & {preset?: string}>();
  let vocabulary = resolveVocabulary();
  const known = presetNames();
  m.presets.forEach((entry, i) => {
    const [name, folder] = typeof entry === "string" ? [entry, "."] : [entry.name, entry.folder];
    if (!known.includes(name)) {
      problems.push(`presets.${i}: no preset is called "${name}" (presets: ${known.join(", ")})`);
      return;
    }
    const preset = readPreset(name);
    for (const [table, t] of Object.entries(preset.tables)) {
      const other = tables.get(table);
      if (other) problems.push(`presets: ${other.preset} and ${name} both give tables.${table}; list one of them`);
      tables.set(table, {t: {...t, from: typeof t.from === "string" ? join(folder, t.from) : t.from}, preset: name});
    }
    for (const [lookup, l] of Object.entries(preset.lookups)) {
      const other = lookups.get(lookup);
      if (other) problems.push(`presets: ${other.preset} and ${name} both give lookups.${lookup}; list one of them`);
      lookups.set(lookup, {...l, from: join(folder, l.from), preset: name});
    }
    vocabulary = resolveVocabulary(preset.vocabulary, vocabulary);
  });
  const composed = new Map([...tables].map(([table, {t}]) => [table, t]));
  for (const [table, over] of Object.entries(m.tables)) {
    if (over === null) {
      composed.delete(table);
      continue;
    }
    const parsed = TableMapping.safeParse(overlay(composed.get(table), over));
    if (parsed.success) composed.set(table, parsed.data);
    else {
      composed.delete(table);
      for (const i of parsed.error.issues)
        problems.push(
          `tables.${table}${i.path.length ? "." + i.path.join(".") : ""}: ${i.message}${i.path[0] === "from" && !tables.has(table) ? " (no preset gives this table)" : ""}`,
        );
    }
  }
  for (const [name, l] of Object.entries(m.lookups))
    if (!/^[a-z][a-z0-9_]*$/.test(name))
      problems.push(
        `lookups.${name}: a lookup's name is lower-case letters, digits and _ (SQL reads it as lookup.<name>)`,
      );
    else if (l === null) lookups.delete(name);
    else lookups.set(name, l);
  return {
    tables: [...composed],
    presetOf: new Map(
      [...tables].filter(([t]) => composed.has(t) && m.tables[t] !== null).map(([t, p]) => [t, p.preset]),
    ),
    lookups: [...lookups].map(([name, {from, format}]) => [name, format ? {from, format} : {from}]),
    vocabulary: resolveVocabulary(m.vocabulary, vocabulary),
  };
}

/** Reads and checks a mapping file: its plan, lookups and vocabulary. Throws MappingError. */
export function readMapping(file: string): MappingSource {
  const label = relative(process.cwd(), file) || file;
  if (!existsSync(file)) throw new MappingError(label, ["the file does not exist"]);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new MappingError(label, [`not valid JSON: ${(e as Error).message}`]);
  }
  const parsed = MappingSchema.safeParse(json);
  if (!parsed.success) throw new MappingError(label, issueLines(parsed.error));
  const problems: string[] = [];
  const plan: SourcePlan = new Map();
  const base = dirname(resolve(file));
  const composed = compose(parsed.data, problems);
  const crosswalk = parsed.data.crosswalk ? resolve(base, parsed.data.crosswalk) : null;
  if (crosswalk && !existsSync(crosswalk))
    problems.push(`crosswalk: "${parsed.data.crosswalk}" does not exist (looked for ${crosswalk})`);
  const sql = (m: z.infer<typeof ColumnMap>) => (typeof m === "string" ? quoteIdent(m) : `(${m.sql})`);
  const zones = new Set([...Intl.supportedValuesOf("timeZone"), "UTC", "Etc/UTC"]);
  const zoneOf = (zone: string | undefined, key: string): string | undefined => {
    if (zone !== undefined && !zones.has(zone))
      problems.push(`${key}: "${zone}" is not a time zone (an IANA name such as Europe/Berlin or America/New_York)`);
    return zone;
  };
  const timezone = zoneOf(parsed.data.timezone, "timezone");
  const lookups: LookupSource[] = [];
  for (const [name, l] of composed.lookups) {
    const path = resolve(base, l.from);
    const format = l.format ?? formatOf(path);
    if (!format) problems.push(`lookups.${name}.from: cannot tell the format of "${l.from}"; add "format"`);
    else if (!existsSync(path)) problems.push(`lookups.${name}.from: "${l.from}" does not exist (looked for ${path})`);
    else lookups.push({name, path, format});
  }
  for (const [table, t] of composed.tables) {
    const key = `tables.${table}`;
    if (!TABLES.includes(table)) {
      problems.push(`${key}: no raw table is called "${table}" (raw tables: ${TABLES.join(", ")})`);
      continue;
    }
    const known = columnsOf(table);
    let path: string;
    let format: SourceFormat | null;
    let database: DatabaseTable | undefined;
    if (typeof t.from === "string") {
      path = resolve(base, t.from);
      format = t.format ?? formatOf(path);
      if (!format)
        problems.push(
          `${key}.from: cannot tell the format of "${t.from}"; add "format": csv, tsv, parquet, json or jsonl`,
        );
      else if (!/[*?[]/.test(t.from) && !existsSync(path))
        problems.push(`${key}.from: "${t.from}" does not exist (looked for ${path})`);
    } else {
      const from = t.from;
      const db = parsed.data.databases[from.database];
      path = `postgres:${from.database}/${table}`;
      format = "database";
      if (!db)
        problems.push(
          `${key}.from.database: no database is called "${from.database}" (databases: ${Object.keys(parsed.data.databases).join(", ") || 'none; declare it under "databases"'})`,
        );
      if (t.format) problems.push(`${key}.format: a table read from a database has no file format`);
      if (t.where)
        problems.push(`${key}.where: a database table's rows are chosen in from.query, which runs in the database`);
      const cursor = from.cursor;
      const keys = cursor?.key === undefined ? [] : typeof cursor.key === "string" ? [cursor.key] : cursor.key;
      if (cursor && t.events && keys.length)
        problems.push(
          `${key}.from.cursor.key: an event log has no key: the days from the cursor on are aggregated again`,
        );
      if (cursor && t.events && cursor.column !== (typeof t.events.at === "string" ? t.events.at : t.events.at.sql))
        problems.push(
          `${key}.from.cursor.column: an event log's cursor is its event time (events.at), so whole days are aggregated again`,
        );
      if (cursor && !t.events && !keys.length)
        problems.push(
          `${key}.from.cursor.key: name the column(s) identifying a row, so a row read again replaces its older copy`,
        );
      if (db)
        database = {
          name: from.database,
          urlVariable: db.url,
          timeoutSeconds: db.timeoutSeconds,
          query: from.query ?? `SELECT * FROM ${from.table}`,
          ...(cursor
            ? {
                cursor: {
                  column: t.events ? sql(t.events.at) : cursor.column,
                  key: keys,
                  lateArrivalDays: cursor.lateArrivalDays,
                },
              }
            : {}),
        };
    }
    const columns: Record<string, string> = {};
    let events: EventLog | undefined;
    if (t.events) {
      if (table !== "usage_events")
        problems.push(`${key}.events: only usage_events can come from a raw event log (not ${table})`);
      for (const c of ["customer_id", "event_date", "event_type", "event_count"])
        if (t.columns[c])
          problems.push(
            `${key}.columns.${c}: an event log's ${c} comes from "events" (the aggregated rows have account_id, event_date, event_type, event_count)`,
          );
      events = {
        at: sql(t.events.at),
        name: sql(t.events.name),
        account: sql(t.events.account),
        ...(t.events.user ? {user: sql(t.events.user)} : {}),
      };
      // the aggregated events carry their account under account_id; without cross-system matching it is the customer id
      if (!t.account) columns.customer_id = quoteIdent("account_id");
    }
    for (const [col, m] of Object.entries(t.columns)) {
      if (!known.includes(col)) {
        problems.push(`${key}.columns.${col}: raw.${table} has no column "${col}" (columns: ${known.join(", ")})`);
        continue;
      }
      columns[col] = typeof m === "string" ? quoteIdent(m) : `(${m.sql})`;
    }
    for (const col of Object.keys(t.values))
      if (!known.includes(col))
        problems.push(`${key}.values.${col}: raw.${table} has no column "${col}" (columns: ${known.join(", ")})`);
    let account: AccountMatch | undefined;
    if (t.account) {
      if (table === "customers")
        problems.push(`${key}.account: customers are the accounts; match the other tables to them`);
      else if (!known.includes("customer_id"))
        problems.push(`${key}.account: raw.${table} has no customer_id to match`);
      if (t.columns.customer_id)
        problems.push(`${key}.account: give the account either by columns.customer_id or by account, not both`);
      account = {
        system: t.account.system,
        id: sql(t.account.id),
        ...(t.account.key ? {key: sql(t.account.key)} : {}),
        ...(t.account.emailDomain ? {emailDomain: sql(t.account.emailDomain)} : {}),
        crosswalk,
      };
    }
    const zone = zoneOf(t.timezone, `${key}.timezone`) ?? timezone;
    if (format)
      plan.set(table, {
        path,
        format,
        ...(database ? {database} : {}),
        columns,
        values: t.values,
        mappingKey: key,
        ...(account ? {account} : {}),
        ...(zone ? {timezone: zone} : {}),
        ...(events ? {events} : {}),
        ...(t.where ? {where: `(${t.where})`} : {}),
        ...(composed.presetOf.has(table) ? {preset: composed.presetOf.get(table)} : {}),
      });
  }
  if (parsed.data.folder !== undefined) {
    const folder = resolve(base, parsed.data.folder);
    if (!existsSync(folder)) problems.push(`folder: "${parsed.data.folder}" does not exist (looked for ${folder})`);
    else
      for (const [table, s] of folderPlan(findRawFiles(folder, {otherFilesAllowed: true})))
        if (!plan.has(table)) plan.set(table, timezone ? {...s, timezone} : s);
  }
  if (problems.length) throw new MappingError(label, problems);
  return {plan, mappingFile: resolve(file), vocabulary: composed.vocabulary, lookups};
}

/** The raw files present in a folder, by table. Throws on ambiguous or unknown files. */
export function findRawFiles(dir: string, opts: {otherFilesAllowed?: boolean} = {}): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  const known = new Set(CONTRACT.map((t) => t.name));
  const unknown: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const m = /^(.+)\.(csv|parquet)$/i.exec(name);
    if (!m) continue;
    const table = m[1]!;
    if (!known.has(table)) {
      unknown.push(name);
      continue;
    }
    if (found.has(table))
      throw new Error(`${dir}: both ${relative(dir, found.get(table)!)} and ${name} provide raw.${table}; keep one`);
    found.set(table, join(dir, name));
  }
  // in data/raw a stray file is a misnamed table; beside a mapping, it is one of the mapped exports
  if (unknown.length && found.size && !opts.otherFilesAllowed)
    throw new Error(
      `${dir}: ${unknown.join(", ")} match no raw table (expected one of: ${[...known].map((t) => t + ".csv").join(", ")})`,
    );
  return found;
}

/** The folder convention as a plan: <table>.csv or <table>.parquet, columns under their own names. */
export function folderPlan(files: Map<string, string>): SourcePlan {
  return new Map(
    [...files].map(([table, path]) => [
      table,
      {path, format: formatOf(path) ?? "csv", columns: {}, values: {}, mappingKey: null},
    ]),
  );
}

/** Where a table's source is, for messages: the file (its problems name the mapping key themselves). */
export function sourceLabel(s: TableSource): string {
  return relative(process.cwd(), s.path) || s.path;
}
