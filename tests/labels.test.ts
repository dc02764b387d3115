/**
 * Plain language (src/rules/labels.ts): every feature the model reads has a label and says its
 * value the way a CSM would; the registry covers every feature column a build makes (read from a
 * real test warehouse), every risk flag and health component; and what readers see — the API's
 * drivers, CTA details, escalation messages, the Slack alert — carries no snake_case.
 */
import {readFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {NON_FEATURE_COLUMNS} from "../loaders/model/train.ts";
import {eventOfAlert, slackPayload} from "../loaders/alerts/payloads.ts";
import {config} from "../src/rules/config.ts";
import {
  componentWords,
  describeFeature,
  FEATURE_LABELS,
  featureLabel,
  featureWords,
  healthComponentLabel,
  riskFlagLabel,
} from "../src/rules/labels.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

/** what the summary guardrail calls an identifier: a_word_like_this */
const SNAKE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/;

interface CardFeature {
  name: string;
  kind: "numeric" | "categorical";
  categories?: string[];
  range?: {min: number; max: number};
}
const shippedCard = JSON.parse(readFileSync("models/churn_model.card.json", "utf8")) as {features: CardFeature[]};

/** A reader's text: words, no identifiers, no "undefined"/"NaN". */
function expectPlain(text: string, what: string): void {
  expect(text, what).toMatch(/\S/);
  expect(text, what).not.toMatch(SNAKE);
  expect(text, what).not.toMatch(/\b(undefined|NaN|null)\b/);
}

/** Labels and descriptions of every value a card feature can take (its range ends, categories, missing). */
function expectCardCovered(features: readonly CardFeature[], where: string): void {
  const missing = features.map((f) => f.name).filter((n) => !Object.hasOwn(FEATURE_LABELS, n));
  expect(missing, `features of ${where} without a label in src/rules/labels.ts`).toEqual([]);
  for (const f of features) {
    expectPlain(featureLabel(f.name), f.name);
    const values: (number | string | null)[] =
      f.kind === "categorical" ? [...(f.categories ?? []), null] : [f.range!.min, f.range!.max, null];
    for (const v of values) expectPlain(describeFeature(f.name, v), `${f.name} = ${v}`);
  }
}

let warehousePath = "";
let modelsDir = "";

/** the tests that read a build get it (built once, cached); the rest run without one */
function needsWarehouse(): void {
  beforeAll(async () => {
    warehousePath = await ensureTestWarehouse();
    modelsDir = join(dirname(warehousePath), "models");
  }, 600_000);
}

describe("every feature has a label", () => {
  it("the shipped model's features (models/churn_model.card.json)", () => {
    expect(shippedCard.features.length).toBeGreaterThan(10);
    expectCardCovered(shippedCard.features, "models/churn_model.card.json");
  });

  describe("in a build", () => {
    needsWarehouse();
    it("the test build's model, and every feature column of the churn and expansion feature marts", async () => {
      const card = JSON.parse(readFileSync(join(modelsDir, "churn_model.card.json"), "utf8")) as {
        features: CardFeature[];
      };
      expectCardCovered(card.features, "the test build's model");
      const w = await openWarehouse(warehousePath, {readOnly: true});
      try {
        const columns = async (table: string) =>
          (
            await all<{column_name: string}>(
              w.conn,
              `SELECT column_name FROM information_schema.columns WHERE table_schema = 'marts' AND table_name = '${table}' ORDER BY ordinal_position`,
            )
          ).map((r) => r.column_name);
        const keys = new Set<string>([...NON_FEATURE_COLUMNS, "upgrade_propensity_proxy"]);
        const churn = (await columns("mart_customer_churn_features")).filter((c) => !keys.has(c));
        const expansion = (await columns("mart_customer_expansion_features")).filter((c) => !keys.has(c));
        expect(churn.length).toBeGreaterThan(40);
        expect(expansion).toContain("mrr_tier_ceiling_pct");
        expect([...churn, ...expansion].filter((c) => !Object.hasOwn(FEATURE_LABELS, c))).toEqual([]);
        // the build's copy for SQL text (cfg.feature_labels) names every driver it wrote
        const unlabelled = await all<{feature: string}>(
          w.conn,
          `SELECT DISTINCT feature FROM marts.mart_customer_drivers
         WHERE feature NOT IN (SELECT feature FROM cfg.feature_labels)`,
        );
        expect(unlabelled).toEqual([]);
        // and every value a driver row holds reads as words
        const rows = await all<{feature: string; feature_value: string | null}>(
          w.conn,
          "SELECT DISTINCT feature, feature_value FROM marts.mart_customer_drivers",
        );
        expect(rows.length).toBeGreaterThan(50);
        for (const r of rows)
          expectPlain(describeFeature(r.feature, r.feature_value), `${r.feature} = ${r.feature_value}`);
      } finally {
        w.close();
      }
    });
  });

  it("every health component (config.ts labels) and risk flag; unknown names throw", () => {
    for (const c of config.healthScore.components) expect(healthComponentLabel(c.id)).toBe(c.label);
    for (const flag of [
      "low_events",
      "support_overload",
      "onboarding_at_risk",
      "payment_failing",
      "compliance_risk",
      "over_deployed_users",
    ])
      expectPlain(riskFlagLabel(flag), flag);
    expect(() => featureLabel("no_such_feature")).toThrow(/src\/rules\/labels\.ts/);
    expect(() => describeFeature("no_such_feature", 1)).toThrow(/no_such_feature/);
    expect(() => riskFlagLabel("no_such_flag")).toThrow();
    expect(() => healthComponentLabel("no_such_component")).toThrow();
    expect(() => featureLabel("toString")).toThrow(); // not an inherited property
    // display code does not fail on a custom model's feature: it spells the column out
    expect(featureWords("days_to_renewal", 27)).toEqual({label: "Days to renewal", description: "renews in 27 days"});
    expect(featureWords("has_open_renewal_opp", true).description).toBe("an open renewal opportunity");
    expect(featureWords("contract_value_eur", 1200)).toEqual({
      label: "Contract value eur",
      description: "contract value eur 1200",
    });
    expect(featureWords("contract_value_eur", null).description).toBe("contract value eur missing");
    expect(componentWords("usage_level")).toBe(healthComponentLabel("usage_level"));
    expect(componentWords("retired_component")).toBe("Retired component");
  });
});

describe("values read as a CSM says them", () => {
  it.each([
    ["days_to_renewal", 27, "renews in 27 days"],
    ["days_to_renewal", "27", "renews in 27 days"], // the drivers table stores values as text
    ["days_to_renewal", 1, "renews in 1 day"],
    ["seat_utilisation", 0.19, "seat utilisation 19%"],
    ["seat_utilisation", "0.187", "seat utilisation 19%"],
    ["seat_utilisation", 1.25, "seat utilisation 1.3× the licence"],
    ["lifecycle_stage_at_cutoff", "Renewal", "in the renewal stage"],
    ["plan_tier", "Enterprise", "on the Enterprise plan"],
    ["company_size", "201-1000", "a 201-1000-employee company"],
    ["company_size", "5000+", "a company of 5000+ employees"],
    ["industry", "FinTech", "a FinTech company"],
    ["arr", 12400, "$12,400 ARR"],
    ["arr_change_180d", -42000, "ARR down $42,000 in the last 180 days"],
    ["events_last_30d", 11778, "11,778 product events in the last 30 days"],
    ["high_priority_tickets_30d", 0, "no high-priority tickets in the last 30 days"],
    ["open_tickets", 1, "1 open ticket"],
    ["latest_nps", null, "no NPS response"],
    ["latest_nps", 4, "latest NPS response 4"],
    ["avg_csat_90d", 3.42, "average CSAT 3.4 in the last 90 days"],
    ["usage_trend_ratio", 0.45, "usage over the last 30 days at 45% of the monthly average before"],
    ["usage_trend_ratio", null, "too new or too quiet for a usage trend"],
    ["compliance_gap_score", 0.6, "compliance gap on 60% of controls"],
    ["has_open_renewal_opp", "1", "an open renewal opportunity"],
    ["has_open_renewal_opp", 0, "no open renewal opportunity"],
    ["active_days_30d", 12, "active on 12 of the last 30 days"],
    ["days_since_last_outreach", null, "no CS touch on record"],
    ["mrr_tier_ceiling_pct", 0.4, "ARR at 40% of the plan's ceiling"],
  ] as const)("%s = %s → %s", (feature, value, said) => {
    expect(describeFeature(feature, value)).toBe(said);
  });

  it("labels are noun phrases for charts", () => {
    expect(featureLabel("days_to_renewal")).toBe("Days to renewal");
    expect(featureLabel("seat_utilisation")).toBe("Seat utilisation");
    expect(featureLabel("lifecycle_stage_at_cutoff")).toBe("Lifecycle stage");
    const labels = Object.values(FEATURE_LABELS).map((l) => l.label);
    expect(new Set(labels).size, "two features share a label").toBe(labels.length);
  });
});

describe("what readers see carries no snake_case", () => {
  needsWarehouse();
  let srv: ApiServer;
  afterAll(async () => {
    await srv?.close();
  });

  it("GET /predictions/customers/{id}/360: drivers carry a label and a description beside the raw feature; POST /predictions/churn too", async () => {
    srv = await startTestApi({warehousePath, modelsDir});
    const w = await openWarehouse(warehousePath, {readOnly: true});
    let ids: string[];
    try {
      ids = (
        await all<{customer_id: string}>(
          w.conn,
          "SELECT DISTINCT customer_id FROM marts.mart_customer_drivers ORDER BY customer_id LIMIT 40",
        )
      ).map((r) => r.customer_id);
    } finally {
      w.close();
    }
    expect(ids.length).toBe(40);
    for (const id of ids) {
      const r = await fetch(`${srv.url}/predictions/customers/${encodeURIComponent(id)}/360`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as {
        drivers: {feature: string; label: string; description: string; value: string | null}[];
      };
      expect(body.drivers.length).toBeGreaterThan(0);
      for (const d of body.drivers) {
        expect(d.label).toBe(featureLabel(d.feature));
        expect(d.description).toBe(describeFeature(d.feature, d.value));
        expectPlain(d.label, d.feature);
        expectPlain(d.description, `${d.feature} = ${d.value}`);
      }
    }
    const [s] = await sampleFeatureRows(warehousePath, modelsDir, 1);
    const p = await fetch(`${srv.url}/predictions/churn`, {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({features: s!.features}),
    });
    expect(p.status).toBe(200);
    const pred = (
      (await p.json()) as {predictions: {top_drivers: {feature: string; label: string; description: string}[]}[]}
    ).predictions[0]!;
    expect(pred.top_drivers.length).toBeGreaterThan(0);
    for (const d of pred.top_drivers) {
      expect(d.label).toBe(featureLabel(d.feature));
      expectPlain(d.description, d.feature);
    }
  }, 120_000);

  it("CTA details and escalation messages name drivers by their labels", async () => {
    const w = await openWarehouse(warehousePath, {readOnly: true});
    try {
      const ctas = await all<{reason_label: string; detail: string}>(
        w.conn,
        "SELECT reason_label, detail FROM marts.mart_cta_queue",
      );
      expect(ctas.length).toBeGreaterThan(0);
      for (const c of ctas) {
        expectPlain(c.detail, "CTA detail");
        expectPlain(c.reason_label, "CTA reason");
      }
      // the risk-tier CTAs say what drives the risk, in words
      const tierCtas = await all<{detail: string; top_risk_drivers: string; model_top_drivers: string}>(
        w.conn,
        `SELECT q.detail, s.top_risk_drivers, s.model_top_drivers FROM marts.mart_cta_queue q
         JOIN marts.mart_customer_risk_scores s USING (customer_id) WHERE q.detail LIKE 'Health:%'`,
      );
      expect(tierCtas.length).toBeGreaterThan(0);
      for (const c of tierCtas) {
        for (const id of c.top_risk_drivers.split(", ").filter(Boolean))
          expect(c.detail).toContain(healthComponentLabel(id));
        for (const f of c.model_top_drivers.split(", ").filter(Boolean)) expect(c.detail).toContain(featureLabel(f));
      }
      const escalations = await all<{issue_summary: string; warning_signals: string}>(
        w.conn,
        "SELECT issue_summary, warning_signals FROM marts.mart_escalations",
      );
      for (const e of escalations) {
        expectPlain(e.issue_summary, "escalation issue");
        expectPlain(e.warning_signals, "escalation signals");
      }
    } finally {
      w.close();
    }
  });

  it("the Slack alert lists the top risk drivers by their labels", () => {
    const e = eventOfAlert({
      alert_id: "a1",
      raised_on: "2026-07-01",
      previous_as_of: "2026-06-30",
      kind: "tier_entered",
      customer_id: "C1",
      company_name: "Acme",
      csm_owner: "Casey Kim",
      plan_tier: "Growth",
      risk_tier: "High",
      previous_risk_tier: "Medium",
      risk_score: 66.2,
      health_score: 33.8,
      previous_health_score: 52.1,
      health_colour: "Red",
      arr: 42_000,
      arr_at_risk: 27_804,
      renewal_date: "2026-08-15",
      days_to_renewal: 45,
      top_risk_drivers: "usage_level, support_load",
      recommended_action: "HIGH RISK — outreach within 48 hours",
      summary: "Acme entered High risk (was Medium).",
    });
    const text = JSON.stringify(slackPayload(e).blocks);
    expect(text).toContain(`${healthComponentLabel("usage_level")}, ${healthComponentLabel("support_load")}`);
    expect(text).not.toMatch(/usage_level|support_load/);
  });
});
