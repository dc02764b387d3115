/**
 * The watermelon report (Risk Drill-Down): where the transparent health score and the churn
 * model disagree (marts.int_score_disagreement) — healthy by the score but at risk by the model
 * ("watermelon": green outside, red inside), or the reverse — with both views side by side, and
 * which view was right on the back-test cutoffs.
 */
import * as Inputs from "npm:@observablehq/inputs";
import {html} from "npm:htl";
import {formatDate, formatInt, formatPercent, formatUsdCompact} from "./format.js";
import {findingCard, tierBadge} from "./ui.js";
import {featureWords} from "../rules/labels.js";

export interface DisagreementRow {
  customer_id: string;
  company_name: string;
  csm_owner: string;
  plan_tier: string;
  arr: number;
  disagreement: "watermelon" | "false_alarm";
  health_score: number;
  risk_tier: string;
  top_risk_drivers: string;
  churn_probability: number;
  model_tier: string;
  model_top_drivers: string;
  expected_arr_loss_90d: number;
}

export interface DisagreementBacktest {
  disagreement: "watermelon" | "false_alarm" | "rest" | "all";
  accounts: number;
  churned: number;
  churn_rate: number;
  first_cutoff: string;
  last_cutoff: string;
}

export const DISAGREEMENT_LABELS = {
  watermelon: "Healthy by the score, at risk by the model",
  false_alarm: "At risk by the score, lowest tier by the model",
} as const;

const SHORT_LABELS = {watermelon: "Watermelon", false_alarm: "False alarm"} as const;

/** The three cards: how often each group churned on the back-test, against all accounts. */
export function disagreementFindings(
  backtest: readonly DisagreementBacktest[],
  tonight: readonly DisagreementRow[],
): HTMLElement {
  const by = new Map(backtest.map((b) => [b.disagreement, b]));
  const all = by.get("all");
  if (!all)
    return html`<p class="sg-meta">No back-test cutoff has matured yet: which view was right cannot be told.</p>` as HTMLElement;
  const window = `${formatInt(all.accounts)} account-cutoffs, ${formatDate(all.first_cutoff)} – ${formatDate(all.last_cutoff)}`;
  const card = (id: "watermelon" | "false_alarm") => {
    const b = by.get(id);
    const n = tonight.filter((r) => r.disagreement === id).length;
    return findingCard(
      id,
      b ? formatPercent(b.churn_rate) : "—",
      html`<strong>${DISAGREEMENT_LABELS[id]}:</strong> ${
        b
          ? html`${formatInt(b.churned)} of ${formatInt(b.accounts)} such accounts churned within 90 days, against ${formatPercent(all.churn_rate)} of all accounts.`
          : "no such account on the back-test cutoffs."
      } ${formatInt(n)} account(s) tonight.`,
      window,
    );
  };
  const w = by.get("watermelon");
  const f = by.get("false_alarm");
  const verdict =
    w && f
      ? w.churn_rate > f.churn_rate
        ? "When they disagreed, the model was right more often: trust the model's tier over a Green score."
        : "When they disagreed, the health score was right more often."
      : "Too few disagreements on the back-test to say which view was right.";
  return html`<div class="grid grid-cols-3">${card("watermelon")}${card("false_alarm")}${findingCard(
    "verdict",
    formatPercent(all.churn_rate),
    html`<strong>Base rate:</strong> ${formatInt(all.churned)} of ${formatInt(all.accounts)} accounts churned within 90 days. ${verdict}`,
    window,
  )}</div>` as HTMLElement;
}

/** Tonight's disagreeing accounts with both views, largest expected loss first. */
export function disagreementTable(
  rows: readonly DisagreementRow[],
  componentLabels: Readonly<Record<string, string>>,
): HTMLElement {
  // drivers in words: the score's components by their labels, the model's features by theirs (src/rules/labels.ts)
  const words = (ids: string, name: (id: string) => string) => ids.split(", ").filter(Boolean).map(name).join("; ");
  return Inputs.table(rows, {
    columns: [
      "company_name",
      "disagreement",
      "health_score",
      "risk_tier",
      "top_risk_drivers",
      "churn_probability",
      "model_tier",
      "model_top_drivers",
      "arr",
    ],
    header: {
      company_name: "Account",
      disagreement: "Disagreement",
      health_score: "Health",
      risk_tier: "Score tier",
      top_risk_drivers: "Score: costs most",
      churn_probability: "P(churn)",
      model_tier: "Model tier",
      model_top_drivers: "Model: top drivers",
      arr: "ARR",
    },
    format: {
      company_name: ((name: string, i: number) =>
        html`<a href=${`./customer-360?id=${encodeURIComponent(rows[i]!.customer_id)}`}>${name}</a>`) as never,
      disagreement: ((d: DisagreementRow["disagreement"]) =>
        html`<span title=${DISAGREEMENT_LABELS[d]}>${SHORT_LABELS[d]}</span>`) as never,
      health_score: ((x: number) => x.toFixed(1)) as never,
      top_risk_drivers: ((ids: string) => words(ids, (id) => componentLabels[id] ?? id)) as never,
      model_top_drivers: ((ids: string) => words(ids, (f) => featureWords(f, null).label)) as never,
      risk_tier: ((t: string) => tierBadge(t)) as never,
      churn_probability: ((p: number) => formatPercent(p)) as never,
      model_tier: ((t: string) => tierBadge(t)) as never,
      arr: ((x: number) => formatUsdCompact(x)) as never,
    },
    rows: 12,
    width: {
      company_name: 160,
      disagreement: 95,
      health_score: 60,
      risk_tier: 85,
      top_risk_drivers: 180,
      churn_probability: 70,
      model_tier: 85,
      model_top_drivers: 190,
      arr: 70,
    },
  }) as HTMLElement;
}
