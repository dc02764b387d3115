/**
 * Vendor presets (presets/<name>.json): the synthetic portfolio written as each vendor's exports
 * (`npm run generate -- --layout …`, loaders/synthetic/layouts.ts) and read back through the
 * preset gives the same raw rows as the plain files — up to what the vendor's layout cannot say
 * (Zendesk's good/bad satisfaction, Intercom's priority flag, Stripe's cancellation feedback,
 * another system's ids), which each comparison states. A combined multi-vendor set builds the
 * site and trains the model; composing and overriding presets, and bad presets, fail clearly.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import {tmpdir} from "node:os";
import {join, relative} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {attachWarehouse} from "../loaders/cli/train.ts";
import {all, lit, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {ingestFiles} from "../loaders/ingest.ts";
import {trainChurnModel} from "../loaders/model/train.ts";
import {LAYOUTS} from "../loaders/synthetic/layouts.ts";
import {MappingError, PRESETS_DIR, presetNames, readMapping, readPreset} from "../loaders/sources.ts";
import {writePresetSamples} from "../loaders/cli/preset-samples.ts";
import {CONTRACT} from "../loaders/contract.ts";
import {DEFAULT_VOCABULARY, type MeaningKind, type Vocabulary} from "../src/rules/vocabulary.ts";
import {TEST_AS_OF} from "./helpers/raw-files.ts";

let root: string;
let plainDir: string;
const SIZE = ["--customers", "120", "--months", "12", "--seed", "7", "--as-of", TEST_AS_OF];

async function generate(name: string, layout?: string): Promise<string> {
  const out = join(root, name);
  await runGenerate(parseGenerateArgs(["--out", out, ...SIZE, ...(layout ? ["--layout", layout] : [])]), () => {});
  return out;
}

/** `col` as its meaning in a vocabulary (values it does not know mean "other"). */
function meaning(v: Vocabulary, kind: MeaningKind, col: string): string {
  const cases = Object.entries(v[kind]).map(([value, m]) => `WHEN ${lit(value)} THEN ${lit(m)}`);
  return `CASE ${col} ${cases.join(" ")} ELSE 'other' END`;
}

/** Ingests a layout's mapping into a fresh in-memory warehouse with the plain rows beside it as plain.<table>. */
async function ingestLayout(dir: string): Promise<{w: Warehouse; vocabulary: Vocabulary; told: string[]}> {
  const mapping = readMapping(join(dir, "mapping.json"));
  const w = await openWarehouse(":memory:");
  const told: string[] = [];
  await ingestFiles(w.conn, mapping, {asOf: TEST_AS_OF, progress: (m) => told.push(m)});
  await w.conn.run("CREATE SCHEMA plain");
  for (const t of CONTRACT)
    await w.conn.run(
      `CREATE VIEW plain.${t.name} AS SELECT * FROM read_parquet(${lit(join(root, "plain-raw", `${t.name}.parquet`))})`,
    );
  return {w, vocabulary: mapping.vocabulary, told};
}

/** Rows in one query and not the other, both ways (multisets): empty when they hold the same rows. */
async function difference(w: Warehouse, mapped: string, plain: string): Promise<unknown[]> {
  return all(w.conn, `(${mapped} EXCEPT ALL ${plain}) UNION ALL (${plain} EXCEPT ALL ${mapped}) LIMIT 5`);
}

/** The daily usage read from an event log against the plain rows, by meaning (the session events mean "other"). */
async function usageDifference(w: Warehouse, v: Vocabulary): Promise<unknown[]> {
  const usage = (voc: Vocabulary) =>
    `customer_id, event_date, ${meaning(voc, "usageEvents", "event_type")} AS m, event_count`;
  return difference(
    w,
    `SELECT * FROM (SELECT ${usage(v)} FROM raw.usage_events) WHERE m <> 'other'`,
    `SELECT ${usage(DEFAULT_VOCABULARY)} FROM plain.usage_events`,
  );
}

/** Builds warehouse and site from a generated layout's mapping; returns the site's segments data as text. */
async function buildSite(dir: string, name: string): Promise<{warehouse: string; segments: string; dist: string}> {
  const warehouse = join(root, `${name}.duckdb`);
  const dist = join(root, `${name}-site`);
  await build({
    asOf: TEST_AS_OF,
    mapping: join(dir, "mapping.json"),
    warehousePath: warehouse,
    modelsDir: join(root, "models"),
    distDir: dist,
    site: true,
    log: () => {},
  });
  const data = join(dist, "_file", "data");
  const file = readdirSync(data).find((f) => f.startsWith("segments."))!;
  return {warehouse, dist, segments: readFileSync(join(data, file), "utf8")};
}

/** Each value of `col` in the mapped rows stands for exactly one plain value and back (a renamed list). */
async function renamedOneToOne(w: Warehouse, table: string, col: string, key: string): Promise<boolean> {
  const [r] = await all<{pairs: number; a: number; b: number}>(
    w.conn,
    `SELECT count(DISTINCT (m.${col}, p.${col})) AS pairs, count(DISTINCT m.${col}) AS a, count(DISTINCT p.${col}) AS b
     FROM raw.${table} m JOIN plain.${table} p USING (${key})`,
  );
  return r!.pairs === r!.a && r!.a === r!.b && r!.a > 1;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "saasguard-presets-"));
  plainDir = await generate("plain");
  mkdirSync(join(root, "plain-raw"));
  const w = await openWarehouse(":memory:");
  try {
    await ingestFiles(w.conn, plainDir, {asOf: TEST_AS_OF});
    for (const t of CONTRACT)
      await w.conn.run(`COPY raw.${t.name} TO ${lit(join(root, "plain-raw", `${t.name}.parquet`))} (FORMAT parquet)`);
  } finally {
    w.close();
  }
}, 120_000);

afterAll(() => rmSync(root, {recursive: true, force: true}));

describe("vendor presets", () => {
  it("every shipped preset is a valid mapping fragment, and npm run generate can write each one's layout", () => {
    expect(presetNames()).toEqual(Object.keys(LAYOUTS).sort());
    for (const name of presetNames()) {
      const p = readPreset(name);
      expect(Object.keys(p.tables).sort(), name).toEqual([...LAYOUTS[name]!.tables].sort());
    }
  });

  it("Salesforce + Zendesk + Stripe + Segment exports read back as the plain rows", async () => {
    const dir = await generate("sf-zd-st-sg", "salesforce,zendesk,stripe,segment");
    const {w, vocabulary: v, told} = await ingestLayout(dir);
    const d = DEFAULT_VOCABULARY;
    try {
      // Salesforce: prospects left out by the preset's where; industries renamed to Salesforce's picklist
      expect(told.join("\n")).toMatch(/where .*Customer_Since__c.* keeps 120 of 132 rows/);
      const cust =
        "customer_id, company_name, company_size, plan_tier, arr, seats_purchased, signup_date, contract_start_date, renewal_date, lifecycle_stage, csm_owner";
      expect(await difference(w, `SELECT ${cust} FROM raw.customers`, `SELECT ${cust} FROM plain.customers`)).toEqual(
        [],
      );
      expect(await renamedOneToOne(w, "customers", "industry", "customer_id")).toBe(true);
      const opp = (voc: Vocabulary) =>
        `opportunity_id, customer_id, ${meaning(voc, "opportunityTypes", "opportunity_type")}, ${meaning(voc, "opportunityStages", "stage")}, amount, created_date, close_date`;
      expect(
        await difference(
          w,
          `SELECT ${opp(v)} FROM raw.gtm_opportunities`,
          `SELECT ${opp(d)} FROM plain.gtm_opportunities`,
        ),
      ).toEqual([]);
      // Zendesk: the category from a custom field; satisfaction is good (5) or bad (1), a 3 is not a rating
      const ticket = (voc: Vocabulary, csat: string) =>
        `customer_id, opened_at, resolved_at, ${meaning(voc, "ticketPriorities", "priority")}, category, ${csat}, subject`;
      expect(
        await difference(
          w,
          `SELECT ${ticket(v, "csat_score")} FROM raw.support_tickets`,
          `SELECT ${ticket(d, "CASE WHEN csat_score >= 4 THEN 5 WHEN csat_score <= 2 THEN 1 END")} FROM plain.support_tickets`,
        ),
      ).toEqual([]);
      // Stripe: invoices by their Stripe id; churn reasons are Stripe's feedback words
      const inv = "customer_id, issued_date, due_date, paid_date, amount";
      expect(await difference(w, `SELECT ${inv} FROM raw.invoices`, `SELECT ${inv} FROM plain.invoices`)).toEqual([]);
      const churn = "customer_id, churn_date, arr_lost, reason IS NULL";
      expect(
        await difference(w, `SELECT ${churn} FROM raw.churn_events`, `SELECT ${churn} FROM plain.churn_events`),
      ).toEqual([]);
      // Segment: a row per event aggregated back into the daily usage, the team's event names read by meaning
      expect(await usageDifference(w, v)).toEqual([]);
      expect(told.join("\n")).toMatch(
        /accounts matched \(tables\.support_tickets\.account, system zendesk\): [\d,]+ by key \(100\.0%\)/,
      );
    } finally {
      w.close();
    }
  }, 180_000);

  it("HubSpot + Intercom + Chargebee + Amplitude exports read back as the plain rows", async () => {
    const dir = await generate("hs-ic-cb-am", "hubspot,intercom,chargebee,amplitude");
    const {w, vocabulary: v} = await ingestLayout(dir);
    const d = DEFAULT_VOCABULARY;
    try {
      // HubSpot: no CS lifecycle stage (derived from tenure later); deals by HubSpot's ids
      const cust =
        "customer_id, company_name, company_size, plan_tier, arr, seats_purchased, signup_date, contract_start_date, renewal_date, csm_owner";
      expect(await difference(w, `SELECT ${cust} FROM raw.customers`, `SELECT ${cust} FROM plain.customers`)).toEqual(
        [],
      );
      expect((await all<{n: number}>(w.conn, "SELECT count(lifecycle_stage) AS n FROM raw.customers"))[0]!.n).toBe(0);
      expect(await renamedOneToOne(w, "customers", "industry", "customer_id")).toBe(true);
      const opp = (voc: Vocabulary) =>
        `customer_id, ${meaning(voc, "opportunityTypes", "opportunity_type")}, ${meaning(voc, "opportunityStages", "stage")}, amount, created_date, close_date`;
      expect(
        await difference(
          w,
          `SELECT ${opp(v)} FROM raw.gtm_opportunities`,
          `SELECT ${opp(d)} FROM plain.gtm_opportunities`,
        ),
      ).toEqual([]);
      // Intercom: a priority flag (high and urgent are "priority"), ratings 1–5 as they are
      const ticket = (prio: string) => `customer_id, opened_at, resolved_at, ${prio}, category, csat_score, subject`;
      expect(
        await difference(
          w,
          `SELECT ${ticket(meaning(v, "ticketPriorities", "priority"))} FROM raw.support_tickets`,
          `SELECT ${ticket("CASE WHEN priority IN ('high', 'urgent') THEN 'high' ELSE 'normal' END")} FROM plain.support_tickets`,
        ),
      ).toEqual([]);
      // Chargebee: invoices by number, churn with its reason code
      const inv = "invoice_id, customer_id, issued_date, due_date, paid_date, amount";
      expect(await difference(w, `SELECT ${inv} FROM raw.invoices`, `SELECT ${inv} FROM plain.invoices`)).toEqual([]);
      expect(await difference(w, "SELECT * FROM raw.churn_events", "SELECT * FROM plain.churn_events")).toEqual([]);
      expect(await usageDifference(w, v)).toEqual([]);
    } finally {
      w.close();
    }
  }, 180_000);

  it("HubSpot + Intercom + Chargebee + Amplitude build the site: lifecycle derived, every account scored", async () => {
    const {warehouse, segments} = await buildSite(join(root, "hs-ic-cb-am"), "hubspot");
    expect(segments).toContain("COMPUTER_SOFTWARE");
    const w = await openWarehouse(warehouse, {readOnly: true});
    try {
      const [r] = await all<{active: number; scored: number; stages: number}>(
        w.conn,
        `SELECT (SELECT count(*) FROM marts.mart_customer_churn_features) AS active,
                (SELECT count(*) FROM marts.mart_customer_risk_scores WHERE health_score IS NOT NULL) AS scored,
                (SELECT count(DISTINCT lifecycle_stage_at_cutoff) FROM marts.mart_customer_churn_features) AS stages`,
      );
      expect(r!.active).toBeGreaterThan(50);
      expect(r!.scored).toBe(r!.active);
      expect(r!.stages).toBeGreaterThan(1); // derived from tenure and renewal date: HubSpot has no CS stage
    } finally {
      w.close();
    }
  }, 180_000);

  it("a Mixpanel export reads back as the plain daily usage", async () => {
    const dir = await generate("mp", "mixpanel");
    const {w, vocabulary: v} = await ingestLayout(dir);
    try {
      expect(await usageDifference(w, v)).toEqual([]);
    } finally {
      w.close();
    }
  }, 120_000);

  it("a multi-vendor set builds the site and trains the model in the vendors' words", async () => {
    const {warehouse, dist, segments} = await buildSite(join(root, "sf-zd-st-sg"), "combined");
    expect(existsSync(join(dist, "index.html"))).toBe(true);
    expect(segments).toContain("Technology"); // Salesforce's industry words on the pages
    expect(segments).not.toContain("Software");
    const {w, asOf} = await attachWarehouse(warehouse);
    try {
      const m = await trainChurnModel(w.conn, {asOf});
      const industry = m.card.features.find((f) => f.name === "industry");
      expect(industry?.kind === "categorical" && industry.categories).toContain("Healthcare");
    } finally {
      w.close();
    }
  }, 300_000);
});

describe("preset samples", () => {
  it("presets/samples holds the first records of every layout's files as npm run generate writes them today", async () => {
    const fresh = join(root, "samples");
    const files = await writePresetSamples(fresh);
    const committed = join(PRESETS_DIR, "samples");
    for (const vendor of presetNames())
      expect(
        files.some((f) => relative(fresh, f).startsWith(vendor + "/")),
        vendor,
      ).toBe(true);
    const w = await openWarehouse(":memory:");
    try {
      for (const f of files) {
        const name = relative(fresh, f);
        if (!name.endsWith(".parquet"))
          expect(readFileSync(join(committed, name), "utf8"), name).toBe(readFileSync(f, "utf8"));
        else
          expect(
            await difference(
              w,
              `SELECT * FROM read_parquet(${lit(f)})`,
              `SELECT * FROM read_parquet(${lit(join(committed, name))})`,
            ),
            name,
          ).toEqual([]);
      }
    } finally {
      w.close();
    }
  }, 120_000);
});

describe("composing presets", () => {
  const write = (dir: string, mapping: unknown) => {
    const file = join(dir, "mapping.json");
    writeFileSync(file, JSON.stringify(mapping));
    return file;
  };

  it("the mapping's own fields override a preset's; null leaves a preset's column or table out", async () => {
    const dir = await generate("override", "salesforce");
    const base = JSON.parse(readFileSync(join(dir, "mapping.json"), "utf8"));
    // an org whose export has no CS lifecycle field, and whose plan field is called Edition__c
    const csv = readFileSync(join(dir, "salesforce", "Account.csv"), "utf8").replace('"Plan__c"', '"Edition__c"');
    writeFileSync(join(dir, "salesforce", "Account.csv"), csv);
    copyFileSync(join(plainDir, "gtm_opportunities.csv"), join(dir, "gtm_opportunities.csv"));
    const file = write(dir, {
      ...base,
      tables: {customers: {columns: {plan_tier: "Edition__c", lifecycle_stage: null}}, gtm_opportunities: null},
    });
    const m = readMapping(file);
    expect(m.plan.get("customers")!.columns.plan_tier).toBe('"Edition__c"');
    expect(m.plan.get("customers")!.columns.lifecycle_stage).toBeUndefined();
    expect(m.plan.get("customers")!.columns.customer_id).toBe('"Id"'); // the rest of the preset stays
    expect(m.plan.get("gtm_opportunities")!.path).toBe(join(dir, "gtm_opportunities.csv")); // from the folder again
    const w = await openWarehouse(":memory:");
    try {
      await ingestFiles(w.conn, m, {asOf: TEST_AS_OF});
      const [r] = await all<{tiers: number; stages: number}>(
        w.conn,
        "SELECT count(DISTINCT plan_tier) AS tiers, count(lifecycle_stage) AS stages FROM raw.customers",
      );
      expect(r).toEqual({tiers: 3, stages: 0});
    } finally {
      w.close();
    }
  }, 120_000);

  it("bad preset use fails naming the key: unknown preset, two presets for one table, a table with no source, a missing lookup", () => {
    const dir = mkdtempSync(join(root, "bad-"));
    const fails = (mapping: unknown, message: RegExp) => {
      const file = write(dir, mapping);
      expect(() => readMapping(file)).toThrow(MappingError);
      expect(() => readMapping(file)).toThrow(message);
    };
    fails({presets: ["salesfroce"]}, /presets\.0: no preset is called "salesfroce" \(presets: amplitude, chargebee, /);
    fails(
      {presets: ["zendesk", "intercom"]},
      /presets: zendesk and intercom both give tables\.support_tickets; list one of them/,
    );
    fails(
      {tables: {invoices: {columns: {amount: "Total"}}}},
      /tables\.invoices\.from: must be a file path .* \(no preset gives this table\)/,
    );
    fails({presets: ["salesforce"]}, /lookups\.salesforce_users\.from: "User\.csv" does not exist/);
    fails({presets: [{name: "stripe"}]}, /presets\.0/);
    fails({lookups: {"Bad-Name": {from: "x.csv"}}}, /lookups\.Bad-Name.*lower-case letters/);
  });

  it("a where that does not run, or a lookup SQL that names a missing lookup, fails that file naming the key", async () => {
    const dir = await generate("badsql", "stripe");
    const base = JSON.parse(readFileSync(join(dir, "mapping.json"), "utf8"));
    const failure = async (mapping: unknown) => {
      const w = await openWarehouse(":memory:");
      try {
        return (
          (await ingestFiles(w.conn, readMapping(write(dir, mapping)), {asOf: TEST_AS_OF}).catch(
            (x: Error) => x,
          )) as Error
        ).message;
      } finally {
        w.close();
      }
    };
    expect(await failure({...base, tables: {churn_events: {where: "stauts = 'canceled'"}}})).toMatch(
      /subscriptions\.jsonl: tables\.churn_events\.where: the SQL does not run on this file: .*stauts/,
    );
    expect(await failure({...base, lookups: {stripe_customers: null}})).toMatch(
      /invoices\.jsonl: tables\.invoices\.account\.key: the SQL does not run on this file: .*stripe_customers/,
    );
  }, 120_000);
});
