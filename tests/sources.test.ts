/**
 * A source mapping (loaders/sources.ts): a team's own exports, in their own column names and
 * values, ingested with one JSON file — and every mistake in that file named by its key.
 */
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {basename as basenameOf, dirname as dirnameOf, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {all, lit, openWarehouse} from "../loaders/duckdb.ts";
import {IngestError, ingestFiles, textDaySql} from "../loaders/ingest.ts";
import {describeSources} from "../loaders/cli/sources.ts";
import {loadMapping, MappingError, readMapping} from "../loaders/sources.ts";
import {makeRawCsvDir, TEST_AS_OF} from "./helpers/raw-files.ts";

let clean: string;
const work: string[] = [];
beforeAll(async () => {
  clean = await makeRawCsvDir(150, 7);
  work.push(clean);
});
afterAll(() => {
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

function copyRaw(): string {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-mapped-"));
  cpSync(clean, dir, {recursive: true});
  work.push(dir);
  return dir;
}

function writeMapping(dir: string, mapping: unknown): string {
  const file = join(dir, "sources.json");
  writeFileSync(file, typeof mapping === "string" ? mapping : JSON.stringify(mapping, null, 2));
  return file;
}

/** The rows of some raw tables after one ingest, as JSON text per row. */
async function tablesRows(
  from: Parameters<typeof ingestFiles>[1],
  tables: string[],
): Promise<Record<string, string[]>> {
  const w = await openWarehouse(":memory:");
  try {
    await ingestFiles(w.conn, from, {asOf: TEST_AS_OF});
    const out: Record<string, string[]> = {};
    for (const t of tables)
      out[t] = (await all(w.conn, `SELECT * FROM raw.${t} ORDER BY ALL`)).map((r) => JSON.stringify(r));
    return out;
  } finally {
    w.close();
  }
}

/** Replaces whole cells of one column in a CSV file (no quoted commas in these files). */
function mapColumn(file: string, column: string, f: (v: string) => string): void {
  const [header, ...lines] = readFileSync(file, "utf8").trimEnd().split("\n");
  const i = header!.split(",").indexOf(column);
  const out = lines.map((l) =>
    l
      .split(",")
      .map((v, k) => (k === i ? f(v) : v))
      .join(","),
  );
  writeFileSync(file, [header, ...out].join("\n") + "\n");
}

describe("a source mapping", () => {
  it("the renamed-tiers case: Pro / Business / Enterprise and a renamed event build with a mapping of a few lines", async () => {
    const dir = copyRaw();
    mapColumn(join(dir, "customers.csv"), "plan_tier", (v) => ({Starter: "Pro", Growth: "Business"})[v] ?? v);
    mapColumn(join(dir, "usage_events.csv"), "event_type", (v) => (v === "report_export" ? "dashboard_viewed" : v));
    // without the mapping: nothing is rejected; the new words are counted, and told with where to declare them
    const w = await openWarehouse(":memory:");
    const told: string[] = [];
    await ingestFiles(w.conn, dir, {asOf: TEST_AS_OF, progress: (m) => told.push(m)});
    const unknown = await all<{value: string; n: number}>(
      w.conn,
      "SELECT value, n FROM ingest.unknown_values ORDER BY value",
    );
    const [counts] = await all<{pro: number; business: number; viewed: number}>(
      w.conn,
      `SELECT count(*) FILTER (WHERE plan_tier = 'Pro') AS pro, count(*) FILTER (WHERE plan_tier = 'Business') AS business,
              (SELECT count(*) FROM raw.usage_events WHERE event_type = 'dashboard_viewed') AS viewed FROM raw.customers`,
    );
    w.close();
    expect(unknown).toEqual([
      {value: "Business", n: counts!.business},
      {value: "Pro", n: counts!.pro},
      {value: "dashboard_viewed", n: counts!.viewed},
    ]);
    expect(told.join("\n")).toMatch(
      /plan_tier: 2 value\(s\) not in the vocabulary .*"Pro" ×\d+.* declare them under "vocabulary" → "planTiers"/,
    );
    // with a value map: the same rows as the original files
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {
        customers: {from: "customers.csv", values: {plan_tier: {Pro: "Starter", Business: "Growth"}}},
        usage_events: {from: "usage_events.csv", values: {event_type: {dashboard_viewed: "report_export"}}},
      },
    });
    const tables = ["customers", "usage_events", "support_tickets"];
    expect(await tablesRows({plan: loadMapping(mappingFile), mappingFile}, tables)).toEqual(
      await tablesRows(clean, tables),
    );
  });

  it("a CRM export under its own column names: renames, SQL expressions and spreadsheet values", async () => {
    const dir = copyRaw();
    // an accounts export the way a CRM writes one
    const [header, ...lines] = readFileSync(join(clean, "customers.csv"), "utf8").trimEnd().split("\n");
    const names = header!.split(",");
    const crm = ["Account ID", "Account Name", "Contact Email", "Industry", "Employees", "Plan", "Annual Revenue"];
    const rest = names.slice(7);
    const out = lines.map((l) => {
      const c = l.split(",");
      const arr = `"$${Number(c[6]).toLocaleString("en-US", {minimumFractionDigits: 2})}"`;
      return [...c.slice(0, 6), arr, ...c.slice(7)].join(",");
    });
    writeFileSync(join(dir, "accounts.csv"), [[...crm, ...rest].join(","), ...out].join("\n") + "\n");
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {
        customers: {
          from: "accounts.csv",
          columns: {
            customer_id: "Account ID",
            company_name: "Account Name",
            primary_contact_email: "Contact Email",
            industry: {sql: 'trim("Industry")'},
            company_size: "Employees",
            plan_tier: "Plan",
            arr: "Annual Revenue",
          },
        },
      },
    });
    expect(await tablesRows({plan: loadMapping(mappingFile), mappingFile}, ["customers"])).toEqual(
      await tablesRows(clean, ["customers"]),
    );
  });

  it("reads Parquet and JSON Lines sources too", async () => {
    const dir = copyRaw();
    const w = await openWarehouse(":memory:");
    await w.conn.run(
      `COPY (FROM read_csv(${lit(join(clean, "support_tickets.csv"))}, all_varchar = true)) TO ${lit(join(dir, "tickets.jsonl"))} (FORMAT json)`,
    );
    await w.conn.run(
      `COPY (FROM read_csv(${lit(join(clean, "gtm_opportunities.csv"))})) TO ${lit(join(dir, "deals.parquet"))} (FORMAT parquet)`,
    );
    w.close();
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {support_tickets: {from: "tickets.jsonl"}, gtm_opportunities: {from: "deals.parquet"}},
    });
    const tables = ["support_tickets", "gtm_opportunities"];
    expect(await tablesRows({plan: loadMapping(mappingFile), mappingFile}, tables)).toEqual(
      await tablesRows(clean, tables),
    );
  });

  it("a glob of CSV exports is one table: each file read on its own, problems named by file and line", async () => {
    const dir = copyRaw();
    const [header, ...lines] = readFileSync(join(clean, "support_tickets.csv"), "utf8").trimEnd().split("\n");
    const third = Math.ceil(lines.length / 3);
    mkdirSync(join(dir, "tickets"));
    for (let i = 0; i < 3; i++) {
      const part = lines.slice(i * third, (i + 1) * third);
      // the second day's export came out of a spreadsheet set to semicolons
      const text = i === 1 ? [header, ...part].map((l) => l.replace(/,/g, ";")) : [header, ...part];
      writeFileSync(join(dir, "tickets", `day-${i + 1}.csv`), text.join("\n") + "\n");
    }
    const mappingFile = writeMapping(dir, {folder: ".", tables: {support_tickets: {from: "tickets/day-*.csv"}}});
    expect(await tablesRows(readMapping(mappingFile), ["support_tickets"])).toEqual(
      await tablesRows(clean, ["support_tickets"]),
    );
    // a bad cell on line 3 of the second file is told there, and only its row is quarantined
    const day2 = join(dir, "tickets", "day-2.csv");
    const rows = readFileSync(day2, "utf8").split("\n");
    const cells = rows[2]!.split(";");
    cells[header!.split(",").indexOf("csat_score")] = "great";
    rows[2] = cells.join(";");
    writeFileSync(day2, rows.join("\n"));
    const w = await openWarehouse(":memory:");
    try {
      const e = (await ingestFiles(w.conn, readMapping(mappingFile), {asOf: TEST_AS_OF}).catch(
        (x: Error) => x,
      )) as Error;
      expect(e.message).toMatch(/tickets\/day-2\.csv:3 column "csat_score" value "great": type: not a valid INTEGER/);
    } finally {
      w.close();
    }
    const w2 = await openWarehouse(":memory:");
    try {
      const r = await ingestFiles(w2.conn, readMapping(mappingFile), {asOf: TEST_AS_OF, lenient: true});
      expect(r.tables.support_tickets).toEqual({rows: lines.length - 1, rejected: 1});
      expect(await all(w2.conn, "SELECT file, row_number FROM ingest.rejected_rows")).toEqual([
        {file: expect.stringMatching(/tickets\/day-2\.csv$/), row_number: 3},
      ]);
    } finally {
      w2.close();
    }
    // a file with other columns is not silently appended
    writeFileSync(join(dir, "tickets", "day-4.csv"), "ticket_id,customer\nT1,C000001\n");
    const w3 = await openWarehouse(":memory:");
    try {
      const e = (await ingestFiles(w3.conn, readMapping(mappingFile), {asOf: TEST_AS_OF}).catch(
        (x: Error) => x,
      )) as Error;
      expect(e.message).toMatch(/day-4\.csv has the columns ticket_id, customer, not those of .*day-1\.csv/);
    } finally {
      w3.close();
    }
  });

  it("a customer on a malformed line of a CSV glob makes the rows that refer to it consequences, not unknown ids", async () => {
    const dir = copyRaw();
    const [header, ...lines] = readFileSync(join(clean, "customers.csv"), "utf8").trimEnd().split("\n");
    mkdirSync(join(dir, "accounts"));
    const half = Math.ceil(lines.length / 2);
    writeFileSync(join(dir, "accounts", "a.csv"), [header, ...lines.slice(0, half)].join("\n") + "\n");
    const second = lines.slice(half);
    const broken = second[1]!.split(",")[0]!;
    second[1] = second[1] + ",an extra field";
    writeFileSync(join(dir, "accounts", "b.csv"), [header, ...second].join("\n") + "\n");
    const mappingFile = writeMapping(dir, {folder: ".", tables: {customers: {from: "accounts/*.csv"}}});
    const w = await openWarehouse(":memory:");
    try {
      const e = (await ingestFiles(w.conn, readMapping(mappingFile), {asOf: TEST_AS_OF}).catch(
        (x: Error) => x,
      )) as Error;
      expect(e.message).toMatch(/accounts\/b\.csv:3 .*malformed CSV line: more fields than the header's/);
      expect(e.message).toMatch(
        /usage_events\.csv column "customer_id": [\d,]+ rows refer to 1 rejected row of customers/,
      );
      expect(e.message).not.toContain(`"${broken}": unknown customer_id`);
    } finally {
      w.close();
    }
  });

  it("a whole build runs from a mapping: warehouse, model scores and marts", async () => {
    const dir = copyRaw();
    mapColumn(join(dir, "customers.csv"), "plan_tier", (v) => ({Starter: "Pro", Growth: "Business"})[v] ?? v);
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {customers: {from: "customers.csv", values: {plan_tier: {Pro: "Starter", Business: "Growth"}}}},
    });
    const root = mkdtempSync(join(tmpdir(), "saasguard-mapped-build-"));
    work.push(root);
    const r = await build({
      asOf: TEST_AS_OF,
      mapping: mappingFile,
      warehousePath: join(root, "warehouse.duckdb"),
      modelsDir: join(root, "models"),
      site: false,
      log: () => {},
    });
    expect(r.source).toBe("files");
    const w = await openWarehouse(join(root, "warehouse.duckdb"), {readOnly: true});
    try {
      const [x] = await all<{n: number; scored: number; tiers: string}>(
        w.conn,
        "SELECT count(*) AS n, count(churn_probability) AS scored, string_agg(DISTINCT plan_tier, ',' ORDER BY plan_tier) AS tiers FROM marts.mart_customer_risk_scores",
      );
      expect(x!.n).toBeGreaterThan(50);
      expect(x!.scored).toBe(x!.n);
      expect(x!.tiers).toBe("Enterprise,Growth,Starter");
    } finally {
      w.close();
    }
  }, 180_000);

  it("the mapping's time zone: ticket times exported in UTC are read as the team's local times", async () => {
    const dir = copyRaw();
    // a help desk exports UTC with an offset; the clean file holds the team's local (New York) times
    const w = await openWarehouse(":memory:");
    await w.conn.run(
      `COPY (SELECT * REPLACE (strftime(timezone('UTC', timezone('America/New_York', opened_at::TIMESTAMP)), '%Y-%m-%dT%H:%M:%SZ') AS opened_at,
                              strftime(timezone('UTC', timezone('America/New_York', resolved_at::TIMESTAMP)), '%Y-%m-%dT%H:%M:%SZ') AS resolved_at)
             FROM read_csv(${lit(join(clean, "support_tickets.csv"))})) TO ${lit(join(dir, "zendesk.csv"))} (HEADER)`,
    );
    w.close();
    const mappingFile = writeMapping(dir, {
      folder: ".",
      timezone: "America/New_York",
      tables: {support_tickets: {from: "zendesk.csv"}},
    });
    expect(await tablesRows({plan: loadMapping(mappingFile), mappingFile}, ["support_tickets"])).toEqual(
      await tablesRows(clean, ["support_tickets"]),
    );
  });

  it("accounts across systems: by key, by crosswalk, by a unique e-mail domain; unmatched records are listed, never dropped", async () => {
    const dir = copyRaw();
    // contacts with their own e-mail domains (the synthetic ones all share example.com)
    mapColumn(join(dir, "customers.csv"), "primary_contact_email", () => "");
    const [ch, ...cl] = readFileSync(join(dir, "customers.csv"), "utf8").trimEnd().split("\n");
    const emailAt = ch!.split(",").indexOf("primary_contact_email");
    writeFileSync(
      join(dir, "customers.csv"),
      [
        ch,
        ...cl.map((l) =>
          l
            .split(",")
            .map((v, i) => (i === emailAt ? `ops@${l.split(",")[0]!.toLowerCase()}.example` : v))
            .join(","),
        ),
      ].join("\n") + "\n",
    );
    // invoices as a billing system exports them: its own customer ids, sometimes the CRM id in metadata
    const [ih, ...il] = readFileSync(join(clean, "invoices.csv"), "utf8").trimEnd().split("\n");
    const cust = ih!.split(",").indexOf("customer_id");
    const num = (id: string) => Number(id.replace(/\D/g, ""));
    const rows = il.map((l, r) => {
      const c = l.split(",");
      const id = c[cust]!;
      c[cust] = r === 5 ? "cus_bogus" : `cus_${num(id) * 7}`;
      const crm = r % 3 === 0 && r !== 5 ? id : "";
      const email = r === 5 ? "" : `billing@${id.toLowerCase()}.example`;
      return [...c, crm, email].join(",");
    });
    writeFileSync(
      join(dir, "stripe_invoices.csv"),
      [ih!.replace("customer_id", "stripe_customer") + ",metadata_crm_id,customer_email", ...rows].join("\n") + "\n",
    );
    // the crosswalk knows the even-numbered customers
    const ids = cl.map((l) => l.split(",")[0]!);
    writeFileSync(
      join(dir, "crosswalk.csv"),
      [
        "customer_id,system,external_id",
        ...ids.filter((id) => num(id) % 2 === 0).map((id) => `${id},Stripe,cus_${num(id) * 7}`),
      ].join("\n") + "\n",
    );
    const mappingFile = writeMapping(dir, {
      folder: ".",
      crosswalk: "crosswalk.csv",
      tables: {
        invoices: {
          from: "stripe_invoices.csv",
          account: {system: "stripe", id: "stripe_customer", key: "metadata_crm_id", emailDomain: "customer_email"},
        },
      },
    });
    const notes: string[] = [];
    const w = await openWarehouse(":memory:");
    try {
      const plan = loadMapping(mappingFile);
      const report = await ingestFiles(
        w.conn,
        {plan, mappingFile},
        {asOf: TEST_AS_OF, lenient: true, progress: (m) => notes.push(m)},
      );
      const line = notes.find((n) => n.includes("accounts matched"))!;
      expect(line).toMatch(/ingest invoices: accounts matched \(tables\.invoices\.account, system stripe\): /);
      for (const how of ["by key", "by crosswalk", "by e-mail domain", "1 unmatched"]) expect(line).toContain(how);
      expect(report.tables.invoices!.rejected).toBe(1);
      const [bad] = await all<{value: string; rule: string}>(
        w.conn,
        "SELECT value, rule FROM ingest.problems WHERE table_name = 'invoices'",
      );
      expect(bad).toEqual({value: "?stripe:cus_bogus", rule: "unknown customer_id (not in customers)"});
      // every other invoice found its own account
      const got = (await all(w.conn, "SELECT invoice_id, customer_id FROM raw.invoices ORDER BY ALL")).map((r) =>
        JSON.stringify(r),
      );
      const want = il
        .filter((_, r) => r !== 5)
        .map((l) => l.split(","))
        .map((c) => JSON.stringify({invoice_id: c[0], customer_id: c[cust]}))
        .sort();
      expect(got).toEqual(want);
    } finally {
      w.close();
    }
  });

  it.each([
    ["not JSON", "{tables: ", /sources\.json: the source mapping cannot be used:\n {2}not valid JSON/],
    ["an unknown top-level key", {tabels: {}}, /\(top level\): Unrecognized key: "tabels"|tabels/],
    [
      "an unknown table",
      {tables: {accounts: {from: "customers.csv"}}},
      /tables\.accounts: no raw table is called "accounts"/,
    ],
    [
      "an unknown column",
      {tables: {customers: {from: "customers.csv", columns: {revenue: "arr"}}}},
      /tables\.customers\.columns\.revenue: raw\.customers has no column "revenue"/,
    ],
    [
      "a value map for an unknown column",
      {tables: {customers: {from: "customers.csv", values: {tier: {Pro: "Growth"}}}}},
      /tables\.customers\.values\.tier: raw\.customers has no column "tier"/,
    ],
    [
      "a missing file",
      {tables: {customers: {from: "nope.csv"}}},
      /tables\.customers\.from: "nope\.csv" does not exist/,
    ],
    [
      "an unknown format",
      {tables: {customers: {from: "customers.xlsx"}}},
      /tables\.customers\.from: cannot tell the format/,
    ],
    [
      "a column map that is neither a name nor SQL",
      {tables: {customers: {from: "customers.csv", columns: {arr: 5}}}},
      /tables\.customers\.columns\.arr/,
    ],
    ["a missing folder", {folder: "exports", tables: {}}, /folder: "exports" does not exist/],
    ["an unknown time zone", {timezone: "Mars/Olympus", tables: {}}, /timezone: "Mars\/Olympus" is not a time zone/],
    [
      "an unknown time zone of one table",
      {tables: {customers: {from: "customers.csv", timezone: "EST5"}}},
      /tables\.customers\.timezone: "EST5" is not a time zone/,
    ],
    ["a missing crosswalk", {crosswalk: "xw.csv", tables: {}}, /crosswalk: "xw\.csv" does not exist/],
    [
      "account matching on the accounts themselves",
      {tables: {customers: {from: "customers.csv", account: {system: "crm", id: "customer_id"}}}},
      /tables\.customers\.account: customers are the accounts/,
    ],
    [
      "an account without a system",
      {tables: {invoices: {from: "invoices.csv", account: {id: "customer_id"}}}},
      /tables\.invoices\.account\.system/,
    ],
  ])("%s is refused naming its key", (_, mapping, message) => {
    const dir = copyRaw();
    const file = writeMapping(dir, mapping);
    expect(() => loadMapping(file)).toThrow(MappingError);
    expect(() => loadMapping(file)).toThrow(message);
  });

  it("a rename to a column the file lacks, or SQL that does not run, fails the file naming the key", async () => {
    const dir = copyRaw();
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {
        customers: {from: "customers.csv", columns: {customer_id: "Account ID"}},
        support_tickets: {from: "support_tickets.csv", columns: {priority: {sql: "upper(no_such_column)"}}},
      },
    });
    const w = await openWarehouse(":memory:");
    const e = (await ingestFiles(w.conn, {plan: loadMapping(mappingFile), mappingFile}, {asOf: TEST_AS_OF}).catch(
      (x: unknown) => x,
    )) as IngestError;
    w.close();
    expect(e).toBeInstanceOf(IngestError);
    expect(e.message).toMatch(
      /customers\.csv: tables\.customers\.columns\.customer_id names column "Account ID", which the file does not have \(columns: customer_id, /,
    );
    expect(e.message).toMatch(
      /support_tickets\.csv: tables\.support_tickets\.columns\.priority: the SQL does not run on this file: .*no_such_column/,
    );
  });
});

describe("a raw event log (Segment, Amplitude, Mixpanel exports) as the usage source", () => {
  /** a few events of two accounts, in the team's zone (New York) around midnight UTC */
  const EVENTS = [
    // account, user, event, time
    ["C000001", "u1", "Report Exported", "2026-06-29T23:30:00Z"], // New York: 06-29 19:30
    ["C000001", "u1", "Report Exported", "2026-06-30T02:00:00Z"], // New York: 06-29 22:00
    ["C000001", "u2", "Signed In", "2026-06-30T14:00:00Z"],
    ["C000001", "u3", "Signed In", "2026-06-30T15:00:00Z"],
    ["C000001", "u2", "Signed In", "2026-06-30T16:00:00Z"],
    ["C000002", "u9", "Dashboard Shared", "2026-06-30T12:00:00+02:00"],
    ["", "anon-1", "Signed In", "2026-06-30T12:00:00Z"], // an anonymous visitor: no account
    ["C000002", "u9", "Signed In", "not a time"],
  ];

  async function ingestLog(
    file: string,
    events: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<{rows: string[]; told: string[]}> {
    const dir = dirnameOf(file);
    const mappingFile = writeMapping(dir, {
      folder: ".",
      vocabulary: {usageEvents: {"Report Exported": "export", "Signed In": "login"}},
      tables: {usage_events: {from: basenameOf(file), events, ...extra}},
    });
    const w = await openWarehouse(":memory:");
    const told: string[] = [];
    try {
      await ingestFiles(w.conn, readMapping(mappingFile), {asOf: TEST_AS_OF, progress: (m) => told.push(m)});
      const rows = await all<{customer_id: string; event_date: string; event_type: string; event_count: number}>(
        w.conn,
        "SELECT customer_id, CAST(event_date AS VARCHAR) AS event_date, event_type, event_count FROM raw.usage_events ORDER BY ALL",
      );
      return {rows: rows.map((r) => `${r.customer_id} ${r.event_date} ${r.event_type} ${r.event_count}`), told};
    } finally {
      w.close();
    }
  }

  it("aggregates events per account, day (in the team's zone) and name, with distinct active users; anonymous and unreadable events are counted and told", async () => {
    const dir = copyRaw();
    rmSync(join(dir, "usage_events.csv"));
    const file = join(dir, "tracks.jsonl");
    writeFileSync(
      file,
      EVENTS.map(([a, u, e, t]) =>
        JSON.stringify({type: "track", event: e, userId: u, timestamp: t, context: {groupId: a || null}}),
      ).join("\n") + "\n",
    );
    const {rows, told} = await ingestLog(
      file,
      {at: "timestamp", name: "event", account: {sql: "context.groupId"}, user: "userId"},
      {timezone: "America/New_York"},
    );
    expect(rows).toEqual([
      "C000001 2026-06-29 Report Exported 2",
      "C000001 2026-06-29 active_users 1",
      "C000001 2026-06-30 Signed In 3",
      "C000001 2026-06-30 active_users 2",
      "C000002 2026-06-30 Dashboard Shared 1",
      "C000002 2026-06-30 active_users 1",
    ]);
    expect(told.join("\n")).toMatch(
      /8 events aggregated into daily usage; not counted: 1 without an account \(anonymous\), 1 without a readable time/,
    );
    // an event name the vocabulary does not know is kept and told, as any unknown word
    expect(told.join("\n")).toMatch(/event_type: 1 value\(s\) not in the vocabulary .*"Dashboard Shared" ×1/);
    // and `npm run sources` shows both before any build
    const seen = (await describeSources({mapping: join(dir, "sources.json"), asOf: TEST_AS_OF})).lines.join("\n");
    expect(seen).toMatch(
      /note: .*8 events aggregated into daily usage; not counted: 1 without an account \(anonymous\)/,
    );
    expect(seen).toMatch(/event_type not in the vocabulary \(other: counted nowhere\): "Dashboard Shared" ×1/);
  });

  it("reads Mixpanel's epoch seconds from Parquet and a glob of CSV files; times without an offset are local", async () => {
    const dir = copyRaw();
    rmSync(join(dir, "usage_events.csv"));
    const w = await openWarehouse(":memory:");
    // Mixpanel: {"event", "properties": {"time": epoch seconds, "distinct_id", "$group_id"}} flattened to Parquet
    await w.conn.run(
      `COPY (SELECT * FROM (VALUES ('Signed In', 1782777600, 'u1', 'C000003'), ('Signed In', 1782777601, 'u2', 'C000003'),
               ('Report Exported', 1782863999, 'u1', 'C000003')) t(event, "time", distinct_id, group_id))
       TO ${lit(join(dir, "mixpanel.parquet"))} (FORMAT parquet)`,
    );
    w.close();
    const epoch = await ingestLog(join(dir, "mixpanel.parquet"), {
      at: "time",
      name: "event",
      account: "group_id",
      user: "distinct_id",
    });
    // 1782777600 = 2026-06-30 00:00:00 UTC; 1782863999 = 2026-06-30 23:59:59 UTC
    expect(epoch.rows).toEqual([
      "C000003 2026-06-30 Report Exported 1",
      "C000003 2026-06-30 Signed In 2",
      "C000003 2026-06-30 active_users 2",
    ]);
    // two daily CSV exports read as one log, times without an offset taken as local
    writeFileSync(
      join(dir, "amplitude-1.csv"),
      "event_time,user_id,event_type,account\n2026-06-29 23:30:00,u1,Signed In,C000004\n",
    );
    writeFileSync(
      join(dir, "amplitude-2.csv"),
      "event_time,user_id,event_type,account\n2026-06-30 00:30:00,u1,Signed In,C000004\n",
    );
    const glob = await ingestLog(join(dir, "amplitude-*.csv"), {
      at: "event_time",
      name: "event_type",
      account: "account",
      user: "user_id",
    });
    expect(glob.rows).toEqual([
      "C000004 2026-06-29 Signed In 1",
      "C000004 2026-06-29 active_users 1",
      "C000004 2026-06-30 Signed In 1",
      "C000004 2026-06-30 active_users 1",
    ]);
  });

  it("the time reading is decided per column: ISO with an offset, ISO local, else the spreadsheet readings", async () => {
    const w = await openWarehouse(":memory:");
    try {
      const day = async (values: string[]) => {
        const rel = `(SELECT unnest([${values.map((v) => lit(v)).join(", ")}]) AS t)`;
        const sql = await textDaySql(w.conn, rel, "t", "America/New_York");
        const days = await all<{d: string | null}>(w.conn, `SELECT CAST(${sql} AS VARCHAR) AS d FROM ${rel}`);
        return {sql, days: days.map((r) => r.d)};
      };
      const zulu = await day(["2026-06-30T02:00:00.000Z", "2026-06-30T14:00:00+02:00"]);
      expect(zulu.sql).toMatch(/^CAST\(timezone\('America\/New_York', TRY_CAST\(t AS TIMESTAMPTZ\)\) AS DATE\)$/);
      expect(zulu.days).toEqual(["2026-06-29", "2026-06-30"]);
      const local = await day(["2026-06-30 02:00:00", "2026-06-30T23:59:59"]);
      expect(local.sql).toBe("CAST(TRY_CAST(t AS TIMESTAMP) AS DATE)");
      expect(local.days).toEqual(["2026-06-30", "2026-06-30"]);
      const us = await day(["7/27/2026 14:05", "7/28/2026 09:00"]);
      expect(us.sql).toMatch(/try_strptime/);
      expect(us.days).toEqual(["2026-07-27", "2026-07-28"]);
    } finally {
      w.close();
    }
  });

  it("an event log field the file does not have fails that file, naming the key and the file's columns", async () => {
    const dir = copyRaw();
    rmSync(join(dir, "usage_events.csv"));
    writeFileSync(join(dir, "tracks.csv"), "ts,user_id,event,account\n2026-06-30 10:00:00,u1,Signed In,C000001\n");
    const mappingFile = writeMapping(dir, {
      folder: ".",
      tables: {usage_events: {from: "tracks.csv", events: {at: "timestamp", name: "event", account: "account"}}},
    });
    const w = await openWarehouse(":memory:");
    const e = (await ingestFiles(w.conn, readMapping(mappingFile), {asOf: TEST_AS_OF}).catch(
      (x: unknown) => x,
    )) as Error;
    w.close();
    expect(e).toBeInstanceOf(IngestError);
    expect(e.message).toMatch(
      /tracks\.csv: tables\.usage_events\.events\.at: "timestamp" does not run on this file: .*\(columns: ts, user_id, event, account\)/,
    );
  });

  it("an event log is refused where it cannot be one, naming the key", () => {
    const dir = copyRaw();
    const file = writeMapping(dir, {
      tables: {
        support_tickets: {from: "support_tickets.csv", events: {at: "a", name: "b", account: "c"}},
        usage_events: {
          from: "usage_events.csv",
          events: {at: "a", name: "b", account: "c"},
          columns: {event_date: "x"},
        },
      },
    });
    expect(() => loadMapping(file)).toThrow(
      /tables\.support_tickets\.events: only usage_events can come from a raw event log/,
    );
    expect(() => loadMapping(file)).toThrow(
      /tables\.usage_events\.columns\.event_date: an event log's event_date comes from "events"/,
    );
  });
});
