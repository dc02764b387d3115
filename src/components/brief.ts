/**
 * The executive brief on the home page: src/data/portfolio_brief.json (written at build time by
 * loaders/brief/), shown as the brief since the previous build, with the week since the last
 * weekly digest and a table of the accounts it names one click away (a brief stays short). Account names link to Customer 360; the text is shown as text
 * (never as HTML), with who wrote it and the governance watermark.
 */
import {html} from "npm:htl";
import {config, type RiskTier} from "../rules/config.js";
import {formatDate, formatUsd} from "./format.js";
import {tierBadge} from "./ui.js";

export type BriefPeriodName = "build" | "week";

export interface BriefPeriod {
  period: BriefPeriodName;
  as_of_date: string;
  baseline_as_of: string | null;
  has_baseline: boolean;
  days_covered: number | null;
  accounts: number;
  total_arr: number;
  arr_at_risk: number;
  at_risk_accounts: number;
  arr_at_risk_change: number | null;
  entered_at_risk_accounts: number | null;
  renewals_entering: number | null;
  renewal_window_days: number;
  digest_due: boolean;
  headline: string;
  summary: string;
  key_points: string[];
  recommended_actions: string[];
  generator: "llm" | "builtin";
  llm_model: string | null;
  guardrail_passed: boolean;
  fallback_reason: string | null;
  watermark: string;
}

export interface BriefAccount {
  period: BriefPeriodName;
  list: "entered_at_risk" | "worsened" | "improved" | "renewal_window";
  rank: number;
  customer_id: string;
  company_name: string;
  risk_tier: RiskTier;
  baseline_risk_tier: RiskTier | null;
  health_score: number;
  baseline_health_score: number | null;
  arr: number;
  arr_at_risk: number;
  arr_at_risk_change: number | null;
  days_to_renewal: number;
  renewal_date: string;
}

export type PortfolioBrief =
  | {available: false}
  | {
      available: true;
      periods: BriefPeriod[];
      accounts: BriefAccount[];
      /** the latest weekly digests, newest first */
      digests: {as_of_date: string; baseline_as_of: string; generator: "llm" | "builtin"}[];
    };

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

const customer360 = (id: string) => `./customer-360?id=${encodeURIComponent(id)}`;

/** The text with each named account turned into a link to its Customer 360 (longest names first). */
function linked(text: string, accounts: readonly BriefAccount[]): (Node | string)[] {
  const byName = new Map(accounts.map((a) => [a.company_name, a.customer_id]));
  const names = [...byName.keys()].sort((a, b) => b.length - a.length);
  if (!names.length) return [text];
  const re = new RegExp(names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  const out: (Node | string)[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index));
    out.push(html`<a href=${customer360(byName.get(m[0])!)}>${m[0]}</a>` as Node);
    last = m.index! + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

function writtenBy(p: BriefPeriod): string {
  if (p.generator === "llm")
    return `Written by the language model (${p.llm_model ?? "unknown model"}), checked against the facts.`;
  if (p.fallback_reason) return "Written by the built-in generator: the language model's brief failed a check.";
  return "Written by the built-in generator from the facts.";
}

/** One period's brief: headline, paragraph, what changed, the ask, who wrote it. */
function briefBody(p: BriefPeriod, accounts: readonly BriefAccount[]): HTMLElement {
  const mine = accounts.filter((a) => a.period === p.period);
  return html`<div class="sg-brief" data-period=${p.period} data-generator=${p.generator}>
    <p class="sg-brief-headline"><strong>${p.headline}</strong></p>
    <p>${linked(p.summary, mine)}</p>
    ${p.key_points.length ? html`<h3>What changed</h3><ul>${p.key_points.map((k) => html`<li>${linked(k, mine)}</li>`)}</ul>` : ""}
    <h3>The ask</h3><ul>${p.recommended_actions.map((k) => html`<li>${linked(k, mine)}</li>`)}</ul>
    ${moversTable(mine)}
    <p class="sg-meta">${writtenBy(p)} <span class="sg-watermark">${p.watermark}</span></p>
  </div>` as HTMLElement;
}

/** The accounts that entered an at-risk tier and the biggest movers, as a small linked table. */
function moversTable(accounts: readonly BriefAccount[]): HTMLElement | string {
  const rows = accounts.filter((a) => a.list !== "renewal_window");
  if (!rows.length) return "";
  const what = {entered_at_risk: "entered at-risk tier", worsened: "ARR at risk up", improved: "ARR at risk down"};
  return html`<details class="sg-brief-accounts"><summary>The accounts listed above, side by side</summary><table class="sg-table"><thead><tr><th>Account</th><th>Why listed</th><th>Tier</th><th class="num">Health</th><th class="num">ARR at risk</th><th class="num">Change</th></tr></thead>
    <tbody>${rows.map(
      (a) => html`<tr data-list=${a.list}>
      <td><a href=${customer360(a.customer_id)}>${a.company_name}</a></td>
      <td>${what[a.list as keyof typeof what]}</td>
      <td>${tierBadge(a.risk_tier)}${a.baseline_risk_tier && a.baseline_risk_tier !== a.risk_tier ? html` <span class="sg-meta">was ${a.baseline_risk_tier}</span>` : ""}</td>
      <td class="num">${a.baseline_health_score === null ? "" : `${Math.round(a.baseline_health_score)} → `}${Math.round(a.health_score)}</td>
      <td class="num">${formatUsd(a.arr_at_risk)}</td>
      <td class="num">${a.arr_at_risk_change === null ? "new" : `${a.arr_at_risk_change > 0 ? "+" : a.arr_at_risk_change < 0 ? "−" : "±"}${formatUsd(Math.abs(a.arr_at_risk_change))}`}</td></tr>`,
    )}</tbody></table></details>` as HTMLElement;
}

/** When the weekly digest goes out, and when it last did. */
function digestLine(b: Extract<PortfolioBrief, {available: true}>): string {
  const weekday = WEEKDAYS[config.brief.digestWeekday - 1];
  const last = b.digests[0];
  const week = b.periods.find((p) => p.period === "week");
  if (week?.digest_due) return `This week's brief went to the alert targets with tonight's build (every ${weekday}).`;
  return last
    ? `The weekly digest goes to the alert targets with the first build of each week from ${weekday}; the last one covered ${formatDate(last.baseline_as_of)} to ${formatDate(last.as_of_date)}.`
    : `The weekly digest goes to the alert targets with the first build of each week from ${weekday}, once there is a week to compare.`;
}

/** The executive brief card's content. */
export function portfolioBrief(b: PortfolioBrief): HTMLElement {
  if (!b.available)
    return html`<p class="sg-meta" id="brief-missing" data-state="missing">The brief appears from the next build.</p>` as HTMLElement;
  const build = b.periods.find((p) => p.period === "build")!;
  const week = b.periods.find((p) => p.period === "week");
  // the week compared with the same build as tonight's brief says the same: shown once
  const separate = week?.has_baseline && week.baseline_as_of !== build.baseline_as_of;
  const weekTitle = week?.digest_due
    ? `This week's digest, since ${formatDate(week.baseline_as_of!)}`
    : `The week so far, since the digest of ${formatDate(week?.baseline_as_of ?? build.as_of_date)}`;
  // data-state: the card has drawn (a first build's brief has no table to show for it)
  return html`<div id="portfolio-brief" data-state=${build.has_baseline ? "compared" : "first-build"}>
    ${briefBody(build, b.accounts)}
    ${week && separate ? html`<details id="brief-week"><summary>${weekTitle}</summary>${briefBody(week, b.accounts)}</details>` : ""}
    <p class="sg-meta" id="brief-digest">${digestLine(b)}</p>
  </div>` as HTMLElement;
}

/** The card's subtitle: what the brief compares. */
export function briefSubtitle(b: PortfolioBrief): string {
  if (!b.available) return "What changed since the previous build";
  const build = b.periods.find((p) => p.period === "build")!;
  return build.has_baseline
    ? `What changed since the previous build (data as of ${formatDate(build.baseline_as_of!)})`
    : "The first build: nothing to compare with yet";
}
