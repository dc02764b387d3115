/**
 * The built-in writer: deterministic account briefs written from the same allow-listed facts the
 * LLM gets. It is the default when no LLM is configured and the fallback when the LLM fails or
 * its answers fail the guardrail, so its text passes the same guardrail (tested): it names the
 * account by its token (the server puts the name back for the caller), every number it writes is
 * a fact, and every driver is already in plain words (src/rules/labels.ts).
 *
 * Two audiences: the CSM brief prepares the next customer call; the executive brief says what
 * is at stake, which way it is moving and what is asked of the executive.
 */
import {count, listOf, withArticle} from "../../../src/components/prose.ts";
import type {AccountFacts} from "./facts.ts";
import type {SummaryAnswer} from "./guardrail.ts";

export type Focus = "overall" | "risk" | "renewal" | "expansion" | "support";
export type Audience = "csm" | "executive";

export const money = (v: number) => `$${Math.round(v).toLocaleString("en-US")}`;
const human = (id: string) => id.replace(/_/g, " ");

export const BUILTIN_NOTE =
  "Written by SaaSGuard's built-in summariser from the account facts; no language model was used.";

/** "a Software company on the Enterprise plan with 51-200 employees, in the renewal stage" */
function profileOf(f: AccountFacts): string {
  return `${withArticle(`${f.industry} company`)} on the ${f.plan_tier} plan with ${f.company_size} employees, in the ${f.lifecycle_stage.toLowerCase()} stage`;
}

/** "renews in 26 days (2026-12-31)" / "has no renewal date on record" */
export function renewalPhrase(f: AccountFacts): string {
  if (!f.renewal_date) return "has no renewal date on record";
  if (f.days_to_renewal <= 0) return `renews today (${f.renewal_date})`;
  return `renews in ${count(f.days_to_renewal, "day")} (${f.renewal_date})`;
}

/** "up from 4.7% on 2026-11-01" / "unchanged since 2026-11-01" / "" (no history yet) */
export function trendPhrase(f: AccountFacts): string {
  const p = f.previous_score;
  if (!p) return "";
  if (p.churn_probability_pct === f.churn_probability_pct) return `unchanged since ${p.as_of}`;
  return `${f.churn_probability_pct > p.churn_probability_pct ? "up" : "down"} from ${p.churn_probability_pct}% on ${p.as_of}`;
}

/** "2 open tickets (1 billing, 1 bug)" */
export function openTicketsPhrase(f: AccountFacts): string {
  const cats = Object.entries(f.open_ticket_categories).map(([k, n]) => `${n} ${human(k)}`);
  return `${count(f.open_tickets, "open ticket", "open tickets", "no open tickets")}${cats.length ? ` (${cats.join(", ")})` : ""}`;
}

/** "5 tickets in the last 30 days, 3 of them high-priority, mostly bug" */
export function recentTicketsPhrase(f: AccountFacts): string {
  if (f.tickets_30d === 0) return "no tickets opened in the last 30 days";
  const groups = Object.entries(f.ticket_groups_30d).map(([g, n]) => `${n} ${human(g)}`);
  const high = f.high_priority_tickets_30d ? `, ${f.high_priority_tickets_30d} of them high-priority` : "";
  return `${count(f.tickets_30d, "ticket")} opened in the last 30 days${high}${groups.length ? ` (${groups.join(", ")})` : ""}, against ${f.tickets_90d} in the last 90 days`;
}

export function opportunitiesPhrase(f: AccountFacts): string {
  if (!f.open_opportunities.length) return "no open opportunities";
  return listOf(f.open_opportunities.map((o) => `${human(o.type)} (${human(o.stage)}, ${money(o.amount)})`));
}

export function ctasPhrase(f: AccountFacts): string {
  if (!f.open_ctas.length) return "no open calls to action";
  return listOf(f.open_ctas.map((c) => `${c.reason} (${c.step}, due ${c.due_date})`));
}

/** The tier's recommended action plus what the facts add (tickets, the renewal, the quadrant). */
function nextSteps(f: AccountFacts, focus: Focus): string[] {
  const actions: string[] = [f.recommended_action];
  if (f.open_ctas.length)
    actions.push(`Work the open call to action first: ${f.open_ctas[0]!.step}, due ${f.open_ctas[0]!.due_date}.`);
  if (f.is_flight_risk) actions.push("Restore account health before any upsell motion: involve an executive sponsor.");
  else if (f.quadrant === "Growth Engine")
    actions.push("Open an upgrade conversation: the account shows strong expansion signals and low churn risk.");
  if (f.open_tickets > 0 && focus !== "expansion")
    actions.push("Resolve the open support tickets before the next customer call.");
  if (f.open_opportunities.some((o) => o.type === "renewal") && focus !== "support")
    actions.push("Align CS and Sales on the open renewal.");
  return actions;
}

/** The items with those at `first` moved to the front, in that order. */
function reorder<T>(items: T[], first: number[]): T[] {
  return [...new Set([...first, ...items.keys()])].map((i) => items[i]!);
}

/** The CSM brief: what to know and do before the next call with the account. */
function csmBrief(f: AccountFacts, focus: Focus): SummaryAnswer {
  const trend = trendPhrase(f);
  const drivers = f.model_risk_drivers;
  const points = [
    `Risk: ${f.churn_probability_pct}% chance of churn in the next 90 days (${f.model_tier} tier)${trend ? `, ${trend}` : ""}; expected ARR loss ${money(f.expected_arr_loss_90d)}.`,
    `Health score ${f.health_score} (${f.rule_risk_tier} risk)${f.health_score_drivers.length ? `; weakest components: ${listOf(f.health_score_drivers)}` : ""}.`,
    `Usage: ${count(f.events_last_30d, "product event")} in the last 30 days; ${f.usage_trend}${f.active_risk_flags.length ? `; risk flags: ${listOf(f.active_risk_flags)}` : ""}.`,
    `Support: ${openTicketsPhrase(f)}; ${recentTicketsPhrase(f)}.`,
    `Open opportunities: ${opportunitiesPhrase(f)}.`,
    `Calls to action: ${ctasPhrase(f)}.`,
  ];
  const order: Record<Focus, number[]> = {
    overall: [0, 1, 2, 3, 4, 5],
    risk: [0, 1, 2, 3],
    renewal: [0, 4, 5],
    expansion: [4, 2, 0],
    support: [3, 0, 2],
  };
  const summary =
    `${f.account_token} is ${profileOf(f)}. It has ${money(f.arr)} ARR, has been a customer for ${count(f.tenure_days, "day")} and ${renewalPhrase(f)}. ` +
    `The churn model gives it ${withArticle(`${f.churn_probability_pct}%`)} chance of churning in the next 90 days (${f.model_tier} tier)` +
    (drivers.length ? `; what raises the risk most: ${listOf(drivers)}` : "") +
    `. ${BUILTIN_NOTE}`;
  return {
    headline: `${f.account_token}: ${f.model_tier} churn risk (${f.churn_probability_pct}% in 90 days), ${renewalPhrase(f).replace(/ \(.*\)$/, "")}`,
    risk_level: f.model_tier,
    summary,
    key_points: reorder(points, order[focus]).slice(0, 6),
    recommended_actions: nextSteps(f, focus).slice(0, 4),
  };
}

/** What is asked of an executive, by how much is at stake and when. */
function executiveAsk(f: AccountFacts): string[] {
  const asks: string[] = [];
  const renewalSoon = f.renewal_date !== null && f.days_to_renewal <= 90;
  if (f.model_tier === "Critical" || f.model_tier === "High")
    asks.push(
      renewalSoon
        ? `Sponsor an executive call with the customer before the renewal: it ${renewalPhrase(f)}.`
        : "Sponsor an executive call with the customer and agree a recovery plan with the account team.",
    );
  else if (f.model_tier === "Medium")
    asks.push("Review the account team's success plan at the next pipeline meeting; no executive call is needed yet.");
  else asks.push("No executive action is needed: keep the account in the standard review cadence.");
  if (f.quadrant === "Growth Engine" && !f.is_flight_risk)
    asks.push("Back the expansion conversation: the account shows strong expansion signals and low churn risk.");
  if (
    f.open_opportunities.some((o) => o.type === "renewal") &&
    (f.model_tier === "Critical" || f.model_tier === "High")
  )
    asks.push("Ask Sales and CS for one joint renewal plan.");
  return asks;
}

/** The executive brief: ARR at stake, which way it is moving, and the ask. */
function executiveBrief(f: AccountFacts): SummaryAnswer {
  const trend = trendPhrase(f);
  const prevHealth = f.previous_score?.health_score;
  const points = [
    `ARR at stake: ${money(f.arr)} ARR, expected 90-day loss ${money(f.expected_arr_loss_90d)}.`,
    `Trend: churn probability ${f.churn_probability_pct}%${trend ? `, ${trend}` : " (no earlier score yet)"}; health score ${f.health_score}${prevHealth !== null && prevHealth !== undefined ? ` against ${prevHealth} then` : ""}; ${f.usage_trend}.`,
    `Renewal: the account ${renewalPhrase(f)}${f.open_opportunities.length ? `; open opportunities: ${opportunitiesPhrase(f)}` : ""}.`,
  ];
  if (f.model_risk_drivers.length) points.push(`Why: ${listOf(f.model_risk_drivers)}.`);
  if (f.open_tickets || f.tickets_30d) points.push(`Support: ${openTicketsPhrase(f)}; ${recentTicketsPhrase(f)}.`);
  const summary =
    `${f.account_token} puts ${money(f.arr)} ARR at stake: the churn model gives it ${withArticle(`${f.churn_probability_pct}%`)} chance of churning in the next 90 days (${f.model_tier} tier), ` +
    `an expected loss of ${money(f.expected_arr_loss_90d)}${trend ? `; the risk is ${trend}` : ""}. It ${renewalPhrase(f)}. ${BUILTIN_NOTE}`;
  return {
    headline: `${f.account_token}: ${money(f.arr)} ARR, ${f.model_tier} churn risk, ${renewalPhrase(f).replace(/ \(.*\)$/, "")}`,
    risk_level: f.model_tier,
    summary,
    key_points: points.slice(0, 6),
    recommended_actions: executiveAsk(f).slice(0, 4),
  };
}

export function builtinSummary(f: AccountFacts, focus: Focus = "overall", audience: Audience = "csm"): SummaryAnswer {
  return audience === "executive" ? executiveBrief(f) : csmBrief(f, focus);
}
