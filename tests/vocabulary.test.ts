/**
 * Open vocabularies (src/rules/vocabulary.ts): an installation's own plan tiers, ticket
 * priorities and categories, CRM stages, event names … declared in its source mapping, read by
 * their meaning everywhere; unknown values counted and read as "other"; score components the
 * data cannot measure left out with their weight spread over the rest.
 */
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {loadMapping, MappingError} from "../loaders/sources.ts";
import {attachWarehouse} from "../loaders/cli/train.ts";
import {trainChurnModel} from "../loaders/model/train.ts";
import {config} from "../src/rules/config.ts";
import {HEALTH_SCORE_FILE, loadHealthScore} from "../src/rules/health-score.ts";
import {makeRawCsvDir, TEST_AS_OF} from "./helpers/raw-files.ts";

let clean: string;
let root: string;
let cleanWarehouse: string;
const work: string[] = [];

/** Builds (no site) into a fresh folder under `root`; returns the warehouse path. */
async function buildFrom(name: string, from: {mapping: string} | {rawDir: string}): Promise<string> {
  const out = join(root, name);
  await build({
    asOf: TEST_AS_OF,
    ...(("mapping" in from ? {mapping: from.mapping} : {rawDir: from.rawDir, source: "files"}) as object),
    warehousePath: join(out, "warehouse.duckdb"),
    modelsDir: join(root, "models"),
    site: false,
    log: () => {},
  });
  return join(out, "warehouse.duckdb");
}

async function query<T = Record<string, unknown>>(warehouse: string, sql: string): Promise<T[]> {
  const w = await openWarehouse(warehouse, {readOnly: true});
  try {
    return await all<T>(w.conn, sql);
  } finally {
    w.close();
  }
}

function copyRaw(): string {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-words-"));
  cpSync(clean, dir, {recursive: true});
  work.push(dir);
  return dir;
}

/** Rewrites the cells of one column of a CSV file (these files have no quoted commas). */
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

function writeMapping(dir: string, mapping: unknown): string {
  const file = join(dir, "sources.json");
  writeFileSync(file, JSON.stringify(mapping, null, 2));
  return file;
}

/** Every rule-based number of every account: features, health score, flags, expansion proxy, CTAs. */
const EVERY_RULE = `
  SELECT f.* EXCLUDE (plan_tier, lifecycle_stage_at_cutoff), r.health_score, r.risk_score, r.risk_tier, r.low_events,
         r.support_overload, r.onboarding_at_risk, r.top_risk_drivers, e.upgrade_propensity_proxy, e.mrr_tier_ceiling_pct,
         (SELECT count(*) FROM marts.mart_escalations x WHERE x.customer_id = f.customer_id) AS escalations,
         (SELECT count(*) FROM marts.mart_cta_queue q WHERE q.customer_id = f.customer_id) AS ctas
  FROM marts.mart_customer_churn_features f
  JOIN marts.mart_customer_risk_scores r USING (customer_id)
  JOIN marts.mart_customer_expansion_features e USING (customer_id)
  ORDER BY customer_id`;

beforeAll(async () => {
  clean = await makeRawCsvDir(150, 7);
  root = mkdtempSync(join(tmpdir(), "saasguard-words-build-"));
  work.push(clean, root);
  cleanWarehouse = await buildFrom("clean", {rawDir: clean});
}, 120_000);
afterAll(() => {
  for (const d of work) rmSync(d, {recursive: true, force: true});
});

describe("open vocabularies", () => {
  it("a company's own words, declared in the mapping, give every rule the same numbers as the demo's words", async () => {
    const dir = copyRaw();
    const rename = (table: string, column: string, words: Record<string, string>) =>
      mapColumn(join(dir, `${table}.csv`), column, (v) => words[v] ?? v);
    rename("customers", "plan_tier", {Starter: "Pro", Growth: "Business"});
    rename("cta_history", "segment", {Starter: "Pro", Growth: "Business"});
    rename("customers", "lifecycle_stage", {Mature: "Established", Adoption: "Ramping"});
    rename("usage_events", "event_type", {report_export: "dashboard_viewed", login: "Signed In"});
    rename("support_tickets", "priority", {medium: "normal", urgent: "P1"});
    rename("support_tickets", "category", {bug: "problem", feature_request: "idea", outage: "incident"});
    rename("gtm_opportunities", "stage", {closed_won: "Closed Won", closed_lost: "Closed Lost", proposal: "Proposal"});
    rename("gtm_opportunities", "opportunity_type", {expansion: "Upsell"});
    rename("subscription_changes", "change_type", {upgrade: "Plan upgrade", seat_remove: "Seats removed"});
    const mapping = writeMapping(dir, {
      folder: ".",
      vocabulary: {
        planTiers: [
          {name: "Pro", arrCeiling: 15_000},
          {name: "Business", arrCeiling: 80_000},
          {name: "Enterprise", arrCeiling: 500_000},
        ],
        lifecycleStages: {Established: "Mature", Ramping: "Adoption"},
        usageEvents: {dashboard_viewed: "export", "Signed In": "login"},
        ticketPriorities: {normal: "normal", P1: "urgent"},
        ticketCategories: {problem: "bug", idea: "feature_request", incident: "outage"},
        opportunityStages: {"Closed Won": "won", "Closed Lost": "lost", Proposal: "open"},
        opportunityTypes: {Upsell: "expansion"},
        subscriptionChanges: {"Plan upgrade": "upgrade", "Seats removed": "seat_remove"},
      },
    });
    // the health score's per-tier weights are keyed by the plan's name: the company's file names its plans
    const health = JSON.parse(readFileSync(HEALTH_SCORE_FILE, "utf8")) as {segments: Record<string, unknown>};
    const plans: Record<string, string> = {Starter: "Pro", Growth: "Business"};
    health.segments = Object.fromEntries(Object.entries(health.segments).map(([k, v]) => [plans[k] ?? k, v]));
    const healthFile = join(dir, "health-score.json");
    writeFileSync(healthFile, JSON.stringify(health));
    process.env.SAASGUARD_HEALTH_SCORE = healthFile;
    let renamed: string;
    try {
      renamed = await buildFrom("renamed", {mapping});
    } finally {
      delete process.env.SAASGUARD_HEALTH_SCORE;
    }
    expect(await query(renamed, EVERY_RULE)).toEqual(await query(cleanWarehouse, EVERY_RULE));
    // the pages show the company's words: its plans, in its order, and its lifecycle stages
    const [r] = await query<{tiers: string; stages: string}>(
      renamed,
      `SELECT string_agg(DISTINCT plan_tier, ',' ORDER BY plan_tier) AS tiers, string_agg(DISTINCT lifecycle_stage, ',' ORDER BY lifecycle_stage) AS stages FROM marts.mart_customer_risk_scores`,
    );
    expect(r!.tiers).toBe("Business,Enterprise,Pro");
    expect(r!.stages.split(",")).toEqual(expect.arrayContaining(["Established"]));
    expect(r!.stages).not.toMatch(/Mature/);
    const order = await query<{value: string}>(
      renamed,
      "SELECT value FROM cfg.vocabulary WHERE kind = 'planTiers' ORDER BY rank",
    );
    expect(order.map((o) => o.value)).toEqual(["Pro", "Business", "Enterprise"]);
    expect(await query(renamed, "SELECT * FROM ingest.unknown_values")).toEqual([]);
    // `npm run train` on this warehouse learns the company's plan names
    const {w, asOf} = await attachWarehouse(renamed);
    try {
      const m = await trainChurnModel(w.conn, {asOf});
      const planTier = m.card.features.find((f) => f.name === "plan_tier");
      expect(planTier?.kind === "categorical" && planTier.categories).toEqual(["Business", "Enterprise", "Pro"]);
    } finally {
      w.close();
    }
  }, 180_000);

  it("values the vocabulary does not know are kept, counted and read as 'other' — never rejected rows", async () => {
    const dir = copyRaw();
    mapColumn(join(dir, "usage_events.csv"), "event_type", (v) => (v === "report_export" ? "dashboard_viewed" : v));
    mapColumn(join(dir, "gtm_opportunities.csv"), "stage", (v) => (v === "closed_won" ? "Signed" : v));
    mapColumn(join(dir, "support_tickets.csv"), "category", (v) => (v === "bug" ? "Defect" : v));
    const wh = await buildFrom("unknown", {mapping: writeMapping(dir, {folder: "."})});
    const unknown = await query<{table_name: string; column_name: string; value: string; n: number}>(
      wh,
      "SELECT table_name, column_name, value, n FROM ingest.unknown_values ORDER BY table_name",
    );
    expect(unknown.map((u) => [u.table_name, u.column_name, u.value])).toEqual([
      ["gtm_opportunities", "stage", "Signed"],
      ["support_tickets", "category", "Defect"],
      ["usage_events", "event_type", "dashboard_viewed"],
    ]);
    const rows = await query<{n: number}>(wh, "SELECT count(*) AS n FROM raw.usage_events");
    const cleanRows = await query<{n: number}>(cleanWarehouse, "SELECT count(*) AS n FROM raw.usage_events");
    expect(rows[0]!.n).toBe(cleanRows[0]!.n);
    // an unknown event name counts nowhere: exports vanish from engagement, the rest is unchanged
    const usage = `SELECT customer_id, events_last_30d, report_exports_30d, logins_30d FROM marts.mart_customer_churn_features ORDER BY customer_id`;
    const before = await query<{customer_id: string; events_last_30d: number; report_exports_30d: number}>(
      cleanWarehouse,
      usage,
    );
    const after = await query<{customer_id: string; events_last_30d: number; report_exports_30d: number}>(wh, usage);
    expect(after.every((a) => a.report_exports_30d === 0)).toBe(true);
    expect(before.some((b) => b.report_exports_30d > 0)).toBe(true);
    expect(after.map((a) => a.events_last_30d)).toEqual(before.map((b) => b.events_last_30d - b.report_exports_30d));
    // an unknown stage is an open one: a deal signed but not known as won stays open past its close
    const [opps] = await query<{open: number; closed: number}>(
      wh,
      `SELECT count(*) FILTER (WHERE o.open) AS open, count(*) FILTER (WHERE NOT o.open) AS closed
       FROM (SELECT unnest(opportunities) AS o FROM marts.mart_customer_360) WHERE o.stage = 'Signed'`,
    );
    expect(opps!.open).toBeGreaterThan(0);
  }, 120_000);

  it("health components the data cannot measure are left out, their weight spread over the rest", async () => {
    const dir = copyRaw();
    // a company that runs no NPS survey and whose product has no integrations
    rmSync(join(dir, "nps_responses.csv"));
    mapColumn(join(dir, "usage_events.csv"), "event_type", (v) => (v === "integration_connect" ? "webhook_set" : v));
    const wh = await buildFrom("no-nps", {mapping: writeMapping(dir, {folder: "."})});
    const weights = await query<{input: string; measured: boolean; configured_weight: number; weight: number}>(
      wh,
      "SELECT input, measured, configured_weight, weight FROM marts.int_score_weights WHERE score = 'health' AND segment IS NULL ORDER BY input",
    );
    const left = weights.filter((w) => !w.measured).map((w) => w.input);
    expect(left.sort()).toEqual(["activation", "nps"]);
    const spread =
      1 -
      loadHealthScore()
        .components.filter((c) => left.includes(c.id))
        .reduce((s, c) => s + c.weight, 0);
    for (const w of weights) expect(w.weight).toBeCloseTo(w.measured ? w.configured_weight / spread : 0, 12);
    expect(weights.reduce((s, w) => s + w.weight, 0)).toBeCloseTo(1, 12);
    // no account loses points on a component nobody can measure; the score is the re-weighted mean
    const [check] = await query<{rows_left_out: number; worst_gap: number}>(
      wh,
      `SELECT (SELECT count(*) FROM marts.mart_health_components WHERE component_id IN ('nps', 'activation')) AS rows_left_out,
              max(abs(r.health_score - round(c.score, 1))) AS worst_gap
       FROM marts.mart_customer_risk_scores r
       JOIN (SELECT customer_id, sum(weight * component_score) AS score FROM marts.mart_health_components GROUP BY ALL) c USING (customer_id)`,
    );
    expect(check!.rows_left_out).toBe(0);
    expect(check!.worst_gap).toBeLessThanOrEqual(0.05);
    // the churn model trained on this data leaves the feature without any value out, and says so
    const told: string[] = [];
    const {w, asOf} = await attachWarehouse(wh);
    try {
      const m = await trainChurnModel(w.conn, {asOf, log: (l) => told.push(l)});
      expect(m.card.features.map((f) => f.name)).not.toContain("latest_nps");
      expect(told).toContain('left out: feature "latest_nps" has no value in this data');
    } finally {
      w.close();
    }
    // the demo measures everything (the weights are scaled by their sum, 1 only to rounding)
    const all8 = await query<{n: number}>(
      cleanWarehouse,
      `SELECT count(*) AS n FROM marts.int_score_weights
       WHERE score = 'health' AND segment IS NULL AND measured AND abs(weight - configured_weight) < 1e-12`,
    );
    expect(all8[0]!.n).toBe(config.healthScore.components.length);
  }, 180_000);

  it.each([
    [
      {vocabulary: {ticketPriorities: {P1: "critical"}}},
      /vocabulary\.ticketPriorities\.P1: must be one of low, normal, high, urgent/,
    ],
    [
      {vocabulary: {planTiers: [{name: "Pro", arrCeiling: -5}]}},
      /vocabulary\.planTiers\.0\.arrCeiling: must be a positive ARR/,
    ],
    [
      {
        vocabulary: {
          planTiers: [
            {name: "Pro", arrCeiling: 5},
            {name: "Pro", arrCeiling: 9},
          ],
        },
      },
      /vocabulary\.planTiers: names a plan tier twice/,
    ],
    [{vocabulary: {planTiers: []}}, /vocabulary\.planTiers: must list at least one plan tier, lowest first/],
    [{vocabulary: {usageEvent: {a: "login"}}}, /vocabulary: Unrecognized key: "usageEvent"/],
    [{vocabulary: {usageEvents: {Clicked: "click"}}}, /vocabulary\.usageEvents\.Clicked: must be one of login, /],
  ])("a bad vocabulary is refused naming its key: %j", (mapping, message) => {
    const dir = mkdtempSync(join(tmpdir(), "saasguard-badvocab-"));
    work.push(dir);
    const file = writeMapping(dir, mapping);
    expect(() => loadMapping(file)).toThrow(MappingError);
    expect(() => loadMapping(file)).toThrow(message);
  });
});
