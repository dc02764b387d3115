/**
 * The built-in summariser: a deterministic account summary written from the same allow-listed
 * facts the LLM gets. It is the default when no LLM is configured and the fallback when the LLM
 * fails or its answers fail the guardrail. Its output passes the same guardrail (tested).
 */
import type {AccountFacts} from "./facts.ts";
import type {SummaryAnswer} from "./guardrail.ts";

export type Focus = "overall" | "risk" | "renewal" | "expansion" | "support";

const money = (v: number) => `$${Math.round(v).toLocaleString("en-US")}`;
const human = (id: string) => id.replace(/_/g, " ");
const list = (xs: string[]) => (xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs.at(-1)}`);

export const BUILTIN_NOTE =
  "Written by SaaSGuard's built-in summariser from the account facts; no language model was used.";

export function builtinSummary(f: AccountFacts, focus: Focus = "overall"): SummaryAnswer {
  const riskDrivers = f.model_risk_drivers.map(human);
  const flags = f.active_risk_flags.map(human);
  const openOpps = f.open_opportunities;
  const keyPoints: string[] = [];
  keyPoints.push(
    `Churn model: ${f.churn_probability_pct}% probability of churn in the next 90 days (${f.model_tier} tier), expected ARR loss ${money(f.expected_arr_loss_90d)}.`,
  );
  keyPoints.push(
    `Rule-based health score ${f.health_score} (${f.rule_risk_tier} risk)${f.health_score_drivers.length ? `, weakest components: ${list(f.health_score_drivers.map(human))}` : ""}.`,
  );
  keyPoints.push(
    `Usage: ${f.events_last_30d} events in the last 30 days${flags.length ? `; active risk flags: ${list(flags)}` : "; no rule-based risk flags are active"}.`,
  );
  keyPoints.push(
    `Support: ${f.open_tickets} open ticket${f.open_tickets === 1 ? "" : "s"}, ${f.high_priority_tickets_30d} high-priority in the last 30 days.`,
  );
  if (openOpps.length)
    keyPoints.push(
      `Open opportunities: ${list(openOpps.map((o) => `${o.type} (${human(o.stage)}, ${money(o.amount)})`))}.`,
    );
  keyPoints.push(
    `Propensity quadrant: ${f.quadrant} (expansion proxy ${f.upgrade_propensity_pct}%)${f.is_flight_risk ? " — a flight risk" : ""}.`,
  );

  const actions: string[] = [f.recommended_action];
  if (f.is_flight_risk) actions.push("Restore account health before any upsell motion: involve an executive sponsor.");
  else if (f.quadrant === "Growth Engine")
    actions.push("Open an upgrade conversation: the account shows strong expansion signals and low churn risk.");
  if (f.open_tickets > 0 && (focus === "overall" || focus === "support" || focus === "risk"))
    actions.push("Resolve the open support tickets before the next customer call.");
  if (openOpps.some((o) => o.type === "renewal") && (focus === "overall" || focus === "renewal" || focus === "risk"))
    actions.push("Align CS and Sales on the open renewal.");

  const order: Record<Focus, number[]> = {
    overall: [0, 1, 2, 3, 4, 5],
    risk: [0, 1, 2, 3, 4, 5],
    renewal: [0, 4, 1, 2, 3, 5],
    expansion: [5, 4, 0, 1, 2, 3],
    support: [3, 0, 2, 1, 4, 5],
  };
  const points = order[focus].map((i) => keyPoints[i]).filter((x): x is string => !!x);

  const summary =
    `${f.account_token} is a ${f.plan_tier} account in ${f.industry} (${f.company_size} employees, ${f.lifecycle_stage} stage) with ${money(f.arr)} ARR, ` +
    `${f.tenure_days} days of tenure and ${f.days_to_renewal} days to renewal. ` +
    `The churn model puts the probability of churn in the next 90 days at ${f.churn_probability_pct}% (${f.model_tier} tier)` +
    (riskDrivers.length ? `, driven mainly by ${list(riskDrivers)}` : "") +
    `. ${BUILTIN_NOTE}`;
  return {
    headline: `${f.model_tier} churn risk: ${f.churn_probability_pct}% in the next 90 days, ${money(f.arr)} ARR, ${f.quadrant}`,
    risk_level: f.model_tier,
    summary,
    key_points: points.slice(0, 6),
    recommended_actions: actions.slice(0, 4),
  };
}
