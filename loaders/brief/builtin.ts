/**
 * The built-in brief: deterministic plain English from the facts alone, with no language model.
 * It writes accounts by their tokens, like the model would, so its text passes the very same
 * grounding check (every number, date and name is a fact) before the names are put back.
 *
 * Numbers are written the way the guardrail grounds them: money as "$48,214" or "$6.9M", counts
 * as written, dates as "22 Jun 2026" (the facts carry those labels).
 */
import {formatInt, formatUsd, formatUsdCompact} from "../../src/components/format.ts";
import {capitalise, count, listOf, plural} from "../../src/components/prose.ts";
import type {AccountFact, BriefChange, BriefFacts} from "./facts.ts";

/** A brief in the shape every generator answers with (writer.ts BRIEF_JSON_SCHEMA for the model). */
export interface BriefText {
  headline: string;
  summary: string;
  key_points: string[];
  recommended_actions: string[];
}

const money = (n: number) => formatUsd(Math.abs(n));
const big = (n: number) => formatUsdCompact(Math.abs(n));
/** "is"/"are" for a count */
const be = (n: number) => (n === 1 ? "is" : "are");
const have = (n: number) => (n === 1 ? "has" : "have");
const signed = (n: number) => `${n > 0 ? "+" : "−"}${money(n)}`;
const health = (n: number) => formatInt(Math.round(n));

/** "Critical or High" */
const tiersOf = (f: BriefFacts) => listOf(f.at_risk_tiers, "or");

/** "acct_1, acct_2 and 3 more" — the listed accounts, and how many the list left out. */
function named(items: readonly string[], total: number): string {
  const more = total - items.length;
  return more > 0 ? `${items.join(", ")} and ${formatInt(more)} more` : listOf(items);
}

function enteredDetail(a: AccountFact): string {
  const was = a.previous_risk_tier ? `was ${a.previous_risk_tier}` : "new account";
  return `${a.account} (${a.risk_tier}, ${was}; ${money(a.arr_at_risk)} ARR at risk)`;
}

function moverDetail(a: AccountFact, worse: boolean): string {
  const parts = [signed(a.arr_at_risk_change ?? 0)];
  // ARR at risk is ARR × risk: say which of the two moved
  if (a.previous_arr !== null && a.previous_arr !== a.arr) parts.push(`ARR ${money(a.previous_arr)} → ${money(a.arr)}`);
  if (a.previous_health_score !== null && health(a.previous_health_score) !== health(a.health_score))
    parts.push(`health ${health(a.previous_health_score)} → ${health(a.health_score)}`);
  if (worse && a.main_driver) parts.push(`most points lost on ${a.main_driver}`);
  return `${a.account} (${parts.join(", ")})`;
}

function renewalDetail(a: AccountFact, atRiskTiers: readonly string[]): string {
  const parts = [`renews ${a.renewal_date_label}`, `${money(a.arr)} ARR`];
  if (atRiskTiers.includes(a.risk_tier)) parts.push(`${a.risk_tier} risk`);
  if (!a.has_open_renewal_opportunity) parts.push("no open renewal opportunity");
  return `${a.account} (${parts.join(", ")})`;
}

/** "Since the previous build (28 Jun 2026)", "In the 7 days since the last weekly digest (22 Jun 2026)" */
function since(f: BriefFacts): string {
  const what = f.period === "build" ? "the previous build" : "the last weekly digest";
  const days = f.days_covered ?? 0;
  return days > 1
    ? `In the ${formatInt(days)} days since ${what} (${f.baseline_label})`
    : `Since ${what} (${f.baseline_label})`;
}

function firstBrief(f: BriefFacts): BriefText {
  const tiers = tiersOf(f);
  const what = f.period === "build" ? "previous build" : "weekly digest";
  return {
    headline: `First brief: no ${what} to compare with yet`,
    summary:
      `This is the first build here (data as of ${f.as_of_label}), so there is nothing to compare with yet. ` +
      `Today ${formatInt(f.at_risk_accounts)} of ${count(f.accounts, "account")} ${be(f.at_risk_accounts)} at ${tiers} risk, ` +
      `with ${big(f.at_risk_arr)} of ARR, and ARR at risk is ${big(f.arr_at_risk)}. ` +
      `What changed appears from the next build on.`,
    key_points: [
      `${capitalise(count(f.at_risk_accounts, "account"))} at ${tiers} risk (${big(f.at_risk_arr)} ARR).`,
      `${capitalise(count(f.renewals_in_window, "renewal"))} inside ${formatInt(f.renewal_window_days)} days (${big(f.renewals_in_window_arr)} ARR).`,
    ],
    recommended_actions: [`Review the accounts at ${tiers} risk in the CSM queue.`],
  };
}

function headline(f: BriefFacts, c: BriefChange): string {
  const tiers = tiersOf(f);
  const moved =
    c.arr_at_risk_change === 0
      ? `ARR at risk unchanged at ${big(f.arr_at_risk)}`
      : `ARR at risk ${c.arr_at_risk_change > 0 ? "rose" : "fell"} ${money(c.arr_at_risk_change)} to ${big(f.arr_at_risk)}`;
  const entered =
    c.entered_at_risk_accounts === 0
      ? `no account entered ${tiers} risk`
      : `${count(c.entered_at_risk_accounts, "account")} entered ${tiers} risk`;
  return `${moved}; ${entered}`;
}

function summary(f: BriefFacts, c: BriefChange): string {
  const tiers = tiersOf(f);
  const s: string[] = [];
  const move =
    c.arr_at_risk_change === 0
      ? `ARR at risk across ${count(f.accounts, "active account")} stayed at ${money(f.arr_at_risk)}`
      : `ARR at risk across ${count(f.accounts, "active account")} ${c.arr_at_risk_change > 0 ? "rose" : "fell"} ${money(c.arr_at_risk_change)}, from ${money(c.baseline_arr_at_risk)} to ${money(f.arr_at_risk)}`;
  s.push(`${since(f)}, ${move}.`);
  const delta = f.at_risk_accounts - c.baseline_at_risk_accounts;
  const was =
    delta === 0 ? "as many as before" : `${delta > 0 ? "up" : "down"} from ${formatInt(c.baseline_at_risk_accounts)}`;
  s.push(
    `${capitalise(count(f.at_risk_accounts, "account"))} ${be(f.at_risk_accounts)} now at ${tiers} risk (${was}).`,
  );
  if (c.entered_at_risk_accounts > 0) {
    const byTier = c.entered_by_tier.map((t) => `${formatInt(t.accounts)} ${t.tier}`);
    s.push(
      `${capitalise(count(c.entered_at_risk_accounts, "account"))} entered ${tiers} risk` +
        (byTier.length > 1 ? ` (${listOf(byTier)})` : "") +
        `, with ${money(c.entered_at_risk_arr)} of ARR` +
        (c.left_at_risk_accounts > 0 ? `; ${count(c.left_at_risk_accounts, "account")} moved out of it.` : "."),
    );
  } else
    s.push(
      `No account entered ${tiers} risk` +
        (c.left_at_risk_accounts > 0 ? `, and ${count(c.left_at_risk_accounts, "account")} moved out of it.` : "."),
    );
  const days = formatInt(f.renewal_window_days);
  const n = c.renewals_entering;
  const risky = c.renewals_entering_at_risk;
  const entering = `${capitalise(count(n, "renewal"))} (${money(c.renewals_entering_arr)} ARR) entered the ${days}-day renewal window`;
  if (n === 0) s.push(`No renewal entered the ${days}-day renewal window.`);
  else if (n === 1) s.push(`${entering}${risky ? `; it is at ${tiers} risk` : ""}.`);
  else
    s.push(
      `${entering}, ${risky === 0 ? "none" : risky === n ? "all" : formatInt(risky)} of them at ${risky === 0 ? "" : `${tiers} `}risk.`,
    );
  const left = `${count(c.left_accounts, "account")} (${money(c.left_arr)} ARR)`;
  if (c.joined_accounts > 0 && c.left_accounts > 0)
    s.push(`${capitalise(count(c.joined_accounts, "account"))} joined the portfolio and ${left} left it.`);
  else if (c.joined_accounts > 0) s.push(`${capitalise(count(c.joined_accounts, "account"))} joined the portfolio.`);
  else if (c.left_accounts > 0) s.push(`${capitalise(left)} left the portfolio.`);

  return s.join(" ");
}

function keyPoints(f: BriefFacts, c: BriefChange): string[] {
  const tiers = tiersOf(f);
  const points: string[] = [];
  if (c.entered_at_risk.length)
    points.push(`Entered ${tiers} risk: ${named(c.entered_at_risk.map(enteredDetail), c.entered_at_risk_accounts)}.`);
  if (c.worsened.length)
    points.push(
      `Biggest ${plural(c.worsened.length, "rise")} in ARR at risk: ${listOf(c.worsened.map((a) => moverDetail(a, true)))}.`,
    );
  if (c.improved.length)
    points.push(
      `Biggest ${plural(c.improved.length, "fall")} in ARR at risk: ${listOf(c.improved.map((a) => moverDetail(a, false)))}.`,
    );
  if (c.renewal_window.length)
    points.push(
      `Now inside ${formatInt(f.renewal_window_days)} days of renewal: ${named(
        c.renewal_window.map((a) => renewalDetail(a, f.at_risk_tiers)),
        c.renewals_entering,
      )}.`,
    );
  points.push(
    `Portfolio: ${count(f.accounts, "account")}, ${big(f.total_arr)} ARR; ${count(f.renewals_in_window, "renewal")} inside ${formatInt(f.renewal_window_days)} days (${big(f.renewals_in_window_arr)} ARR).`,
  );
  return points;
}

function asks(f: BriefFacts, c: BriefChange): string[] {
  const tiers = tiersOf(f);
  const out: string[] = [];
  if (c.entered_at_risk_accounts > 0) {
    const first = c.entered_at_risk[0];
    out.push(
      c.entered_at_risk_accounts === 1
        ? `Confirm an owner and a save plan for ${first?.account ?? "the account"}, which entered ${tiers} risk.`
        : `Confirm an owner and a save plan for each of the ${formatInt(c.entered_at_risk_accounts)} accounts that entered ${tiers} risk` +
            (first ? `, starting with ${first.account} (${first.risk_tier}).` : "."),
    );
  }
  if (c.renewals_entering > 0) {
    const n = c.renewals_entering;
    const without = c.renewals_entering_without_opportunity;
    out.push(
      `Check that ${n === 1 ? "the renewal" : `the ${formatInt(n)} renewals`} now inside ${formatInt(f.renewal_window_days)} days ${have(n)} a proposal on the table` +
        (without === 0
          ? "."
          : without < n
            ? `: ${formatInt(without)} ${have(without)} no open renewal opportunity in the CRM.`
            : n === 1
              ? ": it has no open renewal opportunity in the CRM."
              : ": none of them has an open renewal opportunity in the CRM."),
    );
  }
  const top = c.worsened[0];
  if (top && !c.entered_at_risk.some((a) => a.account === top.account))
    out.push(
      `Ask the owner of ${top.account} what changed: its ARR at risk rose ${money(top.arr_at_risk_change ?? 0)}.`,
    );
  if (!out.length) out.push("No new escalation is needed: keep the standard success cadence.");
  return out;
}

/** The built-in brief of one period, accounts written as their tokens. */
export function builtinBrief(f: BriefFacts): BriefText {
  const c = f.change;
  if (!c) return firstBrief(f);
  return {
    headline: headline(f, c),
    summary: summary(f, c),
    key_points: keyPoints(f, c),
    recommended_actions: asks(f, c),
  };
}

/** A note for a brief the built-in generator wrote because the language model's failed a check. */
export const FALLBACK_NOTE = "Note: the AI brief failed validation, so this is the built-in brief.";
