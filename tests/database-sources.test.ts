/**
 * Sources that live in a database: a real PostgreSQL 15 cluster started for the run
 * (tests/helpers/postgres.ts) holds the synthetic portfolio in the shape of an application
 * database (loaders/synthetic/app-database.ts: accounts, users, subscription events, invoices,
 * tickets, and a raw events table with one row per event). Proven here:
 *  - a build from the database equals the build from the same data as files, table for table
 *    and value for value;
 *  - the usage aggregation runs in the database (only daily aggregates cross the wire), and the
 *    same pushdown query runs unchanged in another engine (DuckDB) on the event file;
 *  - a nightly run reads only rows past the cursor (with the late-arrival window) and equals a
 *    full re-read of the same data; the cursor advances only with a build that succeeded;
 *  - the database going away mid-extraction, a query timing out, wrong credentials and a column
 *    whose type changed each fail with a message naming the source and table, without the
 *    credentials, and leave the previous warehouse exactly as it was.
 */
import {createHash} from "node:crypto";
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import pg from "pg";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build, type BuildOptions} from "../loaders/build.ts";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {all, lit, openWarehouse} from "../loaders/duckdb.ts";
import {eventsPushdownSql} from "../loaders/extract/pushdown.ts";
import {readMapping} from "../loaders/sources.ts";
import {writeAppDatabase} from "../loaders/synthetic/app-database.ts";
import {differences} from "./helpers/compare-warehouses.ts";
import {startPostgres, type PrivatePostgres} from "./helpers/postgres.ts";

const AS_OF = "2026-06-30";
const NEXT_DAY = "2026-07-01";
let root: string;
let dir: string;
let cluster: PrivatePostgres;
let url: string;
let eventRows: number;

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

async function query<T>(sql: string, params: unknown[] = [], at = url): Promise<T[]> {
  const c = new pg.Client({connectionString: at});
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A build of `mapping` into `folder` (warehouse, store, models there), without the site. */
function buildInto(folder: string, mapping: string, extra: Partial<BuildOptions> = {}, lines?: string[]) {
  return build({
    asOf: AS_OF,
    mapping,
    warehousePath: join(folder, "warehouse.duckdb"),
    modelsDir: join(root, "models"),
    site: false,
    env: {APP_DATABASE_URL: url},
    log: (l) => lines?.push(l),
    ...extra,
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-dbsrc-"));
  cpSync("models", join(root, "models"), {recursive: true});
  dir = join(root, "files");
  await runGenerate(
    parseGenerateArgs([
      "--out",
      dir,
      "--customers",
      "90",
      "--months",
      "9",
      "--seed",
      "11",
      "--as-of",
      AS_OF,
      "--layout",
      "segment",
    ]),
    () => {},
  );
  cluster = await startPostgres();
  url = await cluster.newDatabase();
  const written = await writeAppDatabase(dir, url);
  eventRows = written.rows.events!;
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(root, {recursive: true, force: true});
});

describe("PostgreSQL as a source", () => {
  it("a build from the application database equals the build from the same data as files, table for table", async () => {
    const fromFiles = join(root, "b-files");
    const fromDb = join(root, "b-db");
    const lines: string[] = [];
    await buildInto(fromFiles, join(dir, "mapping.json"));
    const r = await buildInto(fromDb, join(dir, "app-database.json"), {}, lines);
    expect(r.stages.extract).toBeGreaterThan(0);
    // only the daily aggregates crossed the wire, not the events
    const usage = lines.find((l) => /usage_events: [\d,]+ rows read from database app/.test(l))!;
    const read = Number(/usage_events: ([\d,]+) rows read/.exec(usage)![1]!.replace(/,/g, ""));
    expect(read).toBe(r.rawRows.usage_events);
    expect(read * 5).toBeLessThan(eventRows);
    expect(
      await differences(join(fromFiles, "warehouse.duckdb"), join(fromDb, "warehouse.duckdb"), ["raw", "marts"]),
    ).toEqual([]);
  }, 600_000);

  it("the usage pushdown query runs unchanged in another SQL engine (DuckDB) on the event file, with the same rows", async () => {
    const mapping = readMapping(join(dir, "app-database.json"));
    const usage = mapping.plan.get("usage_events")!;
    const sql = eventsPushdownSql("SELECT * FROM events", usage.events!, "timestamptz", "UTC");
    const w = await openWarehouse(":memory:");
    try {
      await w.conn.run(
        `CREATE TABLE events AS SELECT context_group_id AS account_id, user_id, event AS name, "timestamp" AS occurred_at
         FROM read_parquet(${lit(join(dir, "segment", "tracks", "*.parquet"))})`,
      );
      const duck = await all<{account_id: string; event_date: string; event_type: string; event_count: number}>(
        w.conn,
        `SELECT account_id, CAST(event_date AS VARCHAR) AS event_date, event_type, event_count FROM (${sql}) ORDER BY ALL`,
      );
      const pgRows = await query<{account_id: string; event_date: string; event_type: string; event_count: string}>(
        `SELECT account_id, event_date::text AS event_date, event_type, event_count FROM (${sql}) q ORDER BY 1, 2, 3, 4`,
      );
      expect(duck.length).toBeGreaterThan(1000);
      expect(pgRows.map((r) => ({...r, event_count: Number(r.event_count)}))).toEqual(duck);
    } finally {
      w.close();
    }
  }, 120_000);
});

describe("npm run generate -- --app-database", () => {
  it("takes the events from the Segment layout, and refuses another event layout or a URL for a variable", () => {
    const args = (...a: string[]) => parseGenerateArgs(["--out", "x", ...a]);
    expect(args("--app-database", "APP_DATABASE_URL").layout).toEqual(["segment"]);
    expect(args("--app-database", "APP_DATABASE_URL", "--layout", "stripe").layout).toEqual(["stripe", "segment"]);
    expect(() => args("--app-database", "APP_DATABASE_URL", "--layout", "amplitude")).toThrow(
      /--app-database writes the product events itself: not with --layout amplitude/,
    );
    expect(() => args("--app-database", "postgres://u:p@h/db")).toThrow(/names the environment variable/);
  });
});

describe("the README", () => {
  it("shows a database mapping that reads, and the usage query the build runs for it", () => {
    const readme = readFileSync("README.md", "utf8");
    const json = /```json\n(\{\n  "databases"[\s\S]*?)\n```/.exec(readme)![1]!;
    const file = join(dir, "readme-mapping.json");
    writeFileSync(file, json);
    const usage = readMapping(file).plan.get("usage_events")!;
    const shown = /\n( *)```sql\n([\s\S]*?)\n *```/.exec(readme)!;
    const sql = shown[2]!
      .split("\n")
      .map((l) => l.slice(shown[1]!.length))
      .join("\n");
    expect(sql).toBe(eventsPushdownSql("SELECT * FROM events", usage.events!, "timestamptz", "UTC"));
  });
});

describe("incremental extraction", () => {
  it("a nightly run reads only rows past the cursor and equals a full re-read; --full-refresh reads everything", async () => {
    const night1 = join(root, "inc");
    await buildInto(night1, join(dir, "app-database.json"));
    const w1 = join(night1, "warehouse.duckdb");
    const before = await cursorsOf(w1);
    expect(before.customers!.mode).toBe("full");

    // the day after: two accounts change, a ticket opens, events arrive for the new day and
    // (late) for the day before; one arrives too late for the window and is only seen by a full read
    await query(
      `UPDATE accounts SET arr = arr * 1.5, plan = 'Enterprise', updated_at = '2026-07-01 09:00:00+00'
       WHERE id IN (SELECT id FROM accounts ORDER BY id LIMIT 2)`,
    );
    await query(
      `INSERT INTO tickets (id, account_id, opened_at, priority, category, subject, updated_at)
       SELECT 'T-NEW-1', id, '2026-07-01 08:00:00+00', 'high', 'bug', 'Export fails', '2026-07-01 08:00:00+00' FROM accounts ORDER BY id LIMIT 1`,
    );
    await query(
      `INSERT INTO events (account_id, user_id, name, occurred_at)
       SELECT account_id, user_id, name, occurred_at + interval '1 day' FROM events WHERE occurred_at >= '2026-06-30' AND occurred_at < '2026-07-01'
       UNION ALL
       SELECT account_id, user_id, 'Report Exported', '2026-06-29 23:00:00+00' FROM events WHERE occurred_at >= '2026-06-29' LIMIT 40`,
    );
    // events without a time belong to no day: counted and told every night, as a full read does
    await query(
      `ALTER TABLE events ALTER COLUMN occurred_at DROP NOT NULL;
       INSERT INTO events (account_id, user_id, name, occurred_at) SELECT account_id, user_id, name, NULL FROM events LIMIT 3`,
    );
    const full = join(root, "inc-full");
    cpSync(night1, full, {recursive: true});
    const lines: string[] = [];
    await buildInto(night1, join(dir, "app-database.json"), {asOf: NEXT_DAY}, lines);
    await buildInto(full, join(dir, "app-database.json"), {asOf: NEXT_DAY, fullRefresh: true});
    const inc = await cursorsOf(w1);
    const all0 = await cursorsOf(join(full, "warehouse.duckdb"));
    for (const t of ["customers", "support_tickets", "invoices", "subscription_changes", "usage_events"]) {
      expect(inc[t]!.mode, t).toBe("incremental");
      expect(all0[t]!.mode, t).toBe("full");
      expect(inc[t]!.rows_read, t).toBeLessThan(all0[t]!.rows_read);
      expect(inc[t]!.rows_total, t).toBe(all0[t]!.rows_total);
      expect(inc[t]!.cursor_value, t).toBe(all0[t]!.cursor_value);
    }
    // a record read again replaces its older copy; the cursors moved to the new rows
    expect(inc.customers!.cursor_value).toBe("2026-07-01 09:00:00.000000+00");
    expect(inc.usage_events!.cursor_value).toBe(NEXT_DAY);
    expect(before.usage_events!.cursor_value).toBe(AS_OF);
    // the late-arrival window (3 days) re-read the days from 2026-06-27 on, not the history
    expect(inc.usage_events!.rows_read * 10).toBeLessThan(all0.usage_events!.rows_read);
    expect(lines.some((l) => /usage_events: [\d,]+ rows read from database app \(incremental/.test(l))).toBe(true);
    expect(await differences(w1, join(full, "warehouse.duckdb"), ["extract", "raw", "marts"])).toEqual([]);

    // an event older than the window is missed by the nightly run, and read by --full-refresh
    await query(
      `INSERT INTO events (account_id, user_id, name, occurred_at) SELECT account_id, user_id, name, '2026-06-01 12:00:00+00' FROM events LIMIT 1`,
    );
    const late = join(root, "inc-late");
    cpSync(night1, late, {recursive: true});
    await buildInto(night1, join(dir, "app-database.json"), {asOf: NEXT_DAY});
    await buildInto(late, join(dir, "app-database.json"), {asOf: NEXT_DAY, fullRefresh: true});
    const june = (w: string) =>
      warehouseValue(
        w,
        "SELECT sum(event_count) AS v FROM extract.usage_events WHERE event_date = DATE '2026-06-01' AND event_type <> 'active_users'",
      );
    expect(Number(await june(join(late, "warehouse.duckdb")))).toBe(Number(await june(w1)) + 1);
  }, 900_000);

  it("a changed query is read in full, without a flag", async () => {
    const folder = join(root, "changed");
    await buildInto(folder, join(dir, "app-database.json"));
    const mapping = JSON.parse(readFileSync(join(dir, "app-database.json"), "utf8"));
    mapping.tables.invoices.from.query = mapping.tables.invoices.from.query.replace(
      " FROM invoices",
      " FROM invoices WHERE amount >= 0",
    );
    const changed = join(dir, "app-database-changed.json");
    writeFileSync(changed, JSON.stringify(mapping));
    const lines: string[] = [];
    await buildInto(folder, changed, {}, lines);
    const c = await cursorsOf(join(folder, "warehouse.duckdb"));
    expect(c.invoices!.mode).toBe("full");
    expect(c.customers!.mode).toBe("incremental");
    expect(
      lines.some((l) =>
        /invoices: the query, cursor or event mapping changed since the last extraction: read in full/.test(l),
      ),
    ).toBe(true);
  }, 600_000);
});

interface CursorRow {
  mode: string;
  rows_read: number;
  rows_total: number;
  cursor_value: string | null;
}

async function cursorsOf(warehouse: string): Promise<Record<string, CursorRow>> {
  const w = await openWarehouse(warehouse, {readOnly: true});
  try {
    const rows = await all<CursorRow & {table_name: string}>(w.conn, "SELECT * FROM extract.cursors");
    return Object.fromEntries(rows.map((r) => [r.table_name, r]));
  } finally {
    w.close();
  }
}

async function warehouseValue(warehouse: string, sql: string): Promise<unknown> {
  const w = await openWarehouse(warehouse, {readOnly: true});
  try {
    return (await all<{v: unknown}>(w.conn, sql))[0]!.v;
  } finally {
    w.close();
  }
}

describe("faults at the database boundary", () => {
  let folder: string;
  let warehouse: string;
  let hash: string;
  beforeAll(async () => {
    folder = join(root, "faults");
    await buildInto(folder, join(dir, "app-database.json"));
    warehouse = join(folder, "warehouse.duckdb");
    hash = sha(warehouse);
  }, 600_000);

  /** The build fails with `pattern`, and the previous warehouse and its cursors are untouched. */
  async function failsUntouched(mapping: string, pattern: RegExp, extra: Partial<BuildOptions> = {}): Promise<string> {
    const error = await buildInto(folder, mapping, extra).then(
      () => {
        throw new Error("the build succeeded");
      },
      (e: Error) => e.message,
    );
    expect(error).toMatch(pattern);
    expect(sha(warehouse)).toBe(hash);
    expect(readdirSync(folder).filter((f) => f.includes(".tmp-"))).toEqual([]);
    return error;
  }

  function mappingWith(
    name: string,
    change: (m: {databases: Record<string, object>; tables: Record<string, {from: Record<string, unknown>}>}) => void,
  ): string {
    const m = JSON.parse(readFileSync(join(dir, "app-database.json"), "utf8"));
    change(m);
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(m));
    return file;
  }

  it("wrong credentials: named by the variable that holds them, never shown", async () => {
    await query(
      "CREATE ROLE reader LOGIN PASSWORD 'right-secret'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader",
    );
    await cluster.requireAuth("host all reader 127.0.0.1/32 scram-sha-256");
    const wrong = url.replace("postgres@", "reader:wrong-Secret-42@");
    const error = await failsUntouched(
      join(dir, "app-database.json"),
      /database app \(\$APP_DATABASE_URL\): the server refused the credentials in \$APP_DATABASE_URL/,
      {
        env: {APP_DATABASE_URL: wrong},
      },
    );
    expect(error).not.toContain("wrong-Secret-42");
    expect(error).not.toContain(wrong);
    // every table of that database is named once, under the one cause
    expect(error).toMatch(
      /not read: customers, usage_events, support_tickets, subscription_changes, invoices|not read: .*customers/,
    );
    expect(error.match(/refused the credentials/g)).toHaveLength(1);
  }, 120_000);

  it("a server that cannot be reached is named by its variable, with every table it holds", async () => {
    const closed = url.replace(/:\d+\//, ":1/");
    const error = await failsUntouched(
      join(dir, "app-database.json"),
      /database app \(\$APP_DATABASE_URL\): cannot reach the server in \$APP_DATABASE_URL \(.*ECONNREFUSED.*\) — not read: customers, /,
      {env: {APP_DATABASE_URL: closed}},
    );
    expect(error).not.toContain(closed);
  }, 60_000);

  it("an unset variable, or a URL written into the mapping, is refused before anything is read", async () => {
    await failsUntouched(
      join(dir, "app-database.json"),
      /databases\.app\.url: the environment variable APP_DATABASE_URL is not set/,
      {env: {}},
    );
    const inFile = mappingWith(
      "url-in-file",
      (m) => (m.databases.app = {url: "postgres://u:hunter2@db.example.com/app"}),
    );
    const error = await failsUntouched(
      inFile,
      /databases\.app\.url: must name the environment variable holding the URL/,
    );
    expect(error).not.toContain("hunter2");
  }, 60_000);

  it("a query that runs past the database's timeout is cancelled and named", async () => {
    const slow = mappingWith("slow", (m) => {
      m.databases.app = {url: "APP_DATABASE_URL", timeoutSeconds: 1};
      m.tables.invoices!.from.query =
        "SELECT i.id AS invoice_id, i.account_id AS customer_id, issued_on AS issued_date, due_on AS due_date, paid_on AS paid_date, amount, updated_at FROM invoices i CROSS JOIN (SELECT pg_sleep(3)) s";
    });
    await failsUntouched(
      slow,
      /tables\.invoices: the query ran longer than databases\.app\.timeoutSeconds \(1 s\) and PostgreSQL cancelled it/,
    );
  }, 120_000);

  it("the database going away mid-extraction fails the build naming the table; nothing is written", async () => {
    const slow = mappingWith("dies", (m) => {
      // each account takes 20 ms to read (the sleep depends on the row, so it runs per row): the
      // COPY is under way when the server ends the session
      m.tables.customers!.from.query =
        "SELECT id AS customer_id, name AS company_name, billing_email AS primary_contact_email, industry, employee_band AS company_size, plan AS plan_tier, arr, seats AS seats_purchased, created_on AS signup_date, contract_start AS contract_start_date, renews_on AS renewal_date, lifecycle AS lifecycle_stage, csm AS csm_owner, updated_at FROM accounts CROSS JOIN LATERAL (SELECT pg_sleep(0.02 + 0 * length(accounts.id))) s";
    });
    const killer = (async () => {
      for (let i = 0; i < 300; i++) {
        const killed = await query<{n: number}>(
          "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'saasguard-extract' AND query LIKE 'COPY%pg_sleep%'",
        );
        if (killed[0]!.n) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    })();
    const error = await failsUntouched(slow, /tables\.customers: the connection to the database was lost/);
    expect(await killer).toBe(true);
    expect(error).toMatch(/database app: not read after that: /);
  }, 120_000);

  it("a column whose type changed since the last extraction is named, and --full-refresh reads it afresh", async () => {
    // the last good build read the mapping as it is now
    await buildInto(folder, join(dir, "app-database.json"));
    hash = sha(warehouse);
    await query("ALTER TABLE accounts ALTER COLUMN seats TYPE text USING seats::text");
    try {
      const error = await failsUntouched(
        join(dir, "app-database.json"),
        /tables\.customers: the query's columns changed since the last extraction \(seats_purchased was integer and is now text\)/,
      );
      expect(error).toContain("--full-refresh");
      const r = await buildInto(folder, join(dir, "app-database.json"), {fullRefresh: true});
      expect(r.rawRows.customers).toBeGreaterThan(0);
      hash = sha(warehouse);
    } finally {
      await query("ALTER TABLE accounts ALTER COLUMN seats TYPE integer USING seats::integer");
    }
  }, 300_000);

  it("mapping mistakes about databases are named by key before anything is read", async () => {
    const bad = mappingWith("bad-db", (m) => {
      m.tables.invoices!.from = {database: "crm", table: "invoices"};
      m.tables.customers!.from = {database: "app", table: "accounts", cursor: {column: "updated_at"}};
      m.tables.usage_events!.from.cursor = {column: "received_at"};
    });
    const error = await failsUntouched(bad, /source mapping cannot be used/);
    expect(error).toContain('tables.invoices.from.database: no database is called "crm" (databases: app)');
    expect(error).toContain("tables.customers.from.cursor.key: name the column(s) identifying a row");
    expect(error).toContain(
      "tables.usage_events.from.cursor.column: an event log's cursor is its event time (events.at)",
    );
    const both = mappingWith("both", (m) => {
      m.tables.support_tickets!.from = {database: "app", table: "tickets", query: "SELECT 1"};
    });
    await failsUntouched(
      both,
      /tables\.support_tickets\.from: give either query \(PostgreSQL SQL\) or table, not both and not neither/,
    );
  }, 60_000);
});
