/**
 * Plain language for every feature, risk flag and health component: the ONE place that turns a
 * column name such as `lifecycle_stage_at_cutoff` and its value into what a CSM would say
 * ("Lifecycle stage", "in the renewal stage"). The site's driver charts, the API's drivers, the
 * CTA detail text (through cfg.feature_labels, loaders/marts.ts) and the summaries read it, so no
 * snake_case reaches a reader; tests/labels.test.ts fails when a model feature has no entry.
 *
 * Numbers inside a description are written so the summary guardrail can ground them against the
 * facts: integers as written (en-US thousands separators), shares as whole percents (0.19 →
 * "19%"), money as "$12,400"; ratios above 1 as "1.4×" (a share above 100% would not ground).
 *
 * No Node imports: pages, loaders and the server all import this module.
 */
import {config} from "./config.js";
import {withArticle} from "../components/prose.js";

export interface FeatureLabel {
  /** a noun phrase for charts and tables: "Days to renewal", "Seat utilisation" */
  label: string;
  /** the value as a reader says it: 27 → "renews in 27 days", 0.19 → "seat utilisation 19%",
      "Renewal" → "in the renewal stage"; null → e.g. "no NPS response" */
  describe(value: number | string | null): string;
}

const int = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
const dec1 = new Intl.NumberFormat("en-US", {maximumFractionDigits: 1});
const usd = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", maximumFractionDigits: 0});

/** The value as a number: the drivers table stores values as text ("27", "0.19", "1", "true"). */
function asNumber(v: number | string): number {
  if (typeof v === "number") return v;
  if (v === "true") return 1;
  if (v === "false") return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

const plural = (n: number, one: string, many = `${one}s`) => `${int.format(n)} ${n === 1 ? one : many}`;
/** a share of something: 0.19 → "19% of the licence"; above 1, 1.4 → "1.4× the licence" (grounds as written) */
const shareOf = (x: number, what: string) =>
  x <= 1 ? `${Math.round(x * 100)}% of ${what}` : `${dec1.format(x)}× ${what}`;
/** "ARR" stays "ARR", "Seat utilisation" becomes "seat utilisation" */
const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);

type Describe = (x: number) => string;

/** A numeric feature: its label, what a missing value means, and how a number reads. */
function numeric(label: string, say: Describe, whenNull = `no data on ${lowerFirst(label)}`): FeatureLabel {
  return {
    label,
    describe(v) {
      if (v === null) return whenNull;
      const x = asNumber(v);
      return Number.isNaN(x) ? `${lowerFirst(label)} ${String(v)}` : say(x);
    },
  };
}

/** A count over a window: 3 → "3 support tickets in the last 30 days", 0 → "no support tickets …". */
function count(label: string, one: string, tail: string, many?: string, whenNull?: string): FeatureLabel {
  return numeric(
    label,
    (x) => `${x === 0 ? `no ${many ?? `${one}s`}` : plural(Math.round(x), one, many)}${tail ? ` ${tail}` : ""}`,
    whenNull,
  );
}

/** A yes/no feature (stored as 0/1 or true/false). */
function flag(label: string, yes: string, no: string): FeatureLabel {
  return numeric(label, (x) => (x > 0 ? yes : no), no);
}

/** A categorical feature: the value in the installation's own words, inside a CSM's phrase. */
function category(label: string, say: (v: string) => string): FeatureLabel {
  return {label, describe: (v) => (v === null || v === "" ? `${lowerFirst(label)} unknown` : say(String(v)))};
}

const last = (days: number) => `in the last ${days} days`;

export const FEATURE_LABELS: Readonly<Record<string, FeatureLabel>> = Object.freeze({
  // who the account is
  plan_tier: category("Plan", (v) => `on the ${v} plan`),
  industry: category("Industry", (v) => withArticle(`${v} company`)),
  company_size: category("Company size", (v) =>
    v.endsWith("+") ? `a company of ${v} employees` : `a ${v}-employee company`,
  ),
  csm_owner: category("CSM", (v) => `looked after by ${v}`),
  tenure_days: numeric("Tenure", (x) => `a customer for ${plural(x, "day")}`),
  days_to_renewal: numeric("Days to renewal", (x) => (x === 0 ? "renews today" : `renews in ${plural(x, "day")}`)),
  lifecycle_stage_at_cutoff: category("Lifecycle stage", (v) => `in the ${v.toLowerCase()} stage`),
  arr: numeric("ARR", (x) => `${usd.format(x)} ARR`),
  seats: numeric("Seats", (x) => plural(x, "seat")),
  // product usage
  events_last_7d: count("Product events (7 days)", "product event", last(7)),
  events_last_30d: count("Product events (30 days)", "product event", last(30)),
  events_last_90d: count("Product events (90 days)", "product event", last(90)),
  events_prev_60d: count("Product events (the 60 days before)", "product event", "in the 60 days before the last 30"),
  events_per_seat_30d: numeric(
    "Events per seat (30 days)",
    (x) => `${dec1.format(x)} product events per seat ${last(30)}`,
  ),
  usage_trend_ratio: numeric(
    "Usage trend",
    (x) => `usage over the last 30 days at ${shareOf(x, "the monthly average before")}`,
    "too new or too quiet for a usage trend",
  ),
  active_days_30d: numeric("Active days (30 days)", (x) => `active on ${int.format(x)} of the last 30 days`),
  logins_30d: count("Logins (30 days)", "login", last(30)),
  feature_uses_30d: count("Feature uses (30 days)", "feature use", last(30)),
  api_calls_30d: count("API calls (30 days)", "API call", last(30)),
  report_exports_30d: count("Report exports (30 days)", "report export", last(30)),
  avg_active_users_30d: numeric(
    "Daily active users (30 days)",
    (x) => `${dec1.format(x)} active ${x === 1 ? "user" : "users"} a day on average`,
  ),
  seat_utilisation: numeric("Seat utilisation", (x) =>
    x <= 1 ? `seat utilisation ${Math.round(x * 100)}%` : `seat utilisation ${shareOf(x, "the licence")}`,
  ),
  over_deployed_users: count("Users beyond the licence", "person", "active beyond the licence", "people"),
  integrations_first_30d: count("Integrations in the first 30 days", "integration", "connected in the first 30 days"),
  onboarding_integrations: count(
    "Onboarding integrations",
    "integration",
    "connected during onboarding",
    undefined,
    "past onboarding",
  ),
  integrations_90d: count("Integrations (90 days)", "integration", `connected ${last(90)}`),
  premium_feature_trials_30d: count("Premium feature trials (30 days)", "premium feature trial", last(30)),
  feature_limit_hits_30d: numeric("Plan limit hits (30 days)", (x) =>
    x === 0 ? `no plan limits hit ${last(30)}` : `hit plan limits ${plural(x, "time")} ${last(30)}`,
  ),
  mrr_tier_ceiling_pct: numeric("ARR against the plan's ceiling", (x) => `ARR at ${shareOf(x, "the plan's ceiling")}`),
  // support
  tickets_30d: count("Support tickets (30 days)", "support ticket", last(30)),
  tickets_90d: count("Support tickets (90 days)", "support ticket", last(90)),
  high_priority_tickets_30d: count("High-priority tickets (30 days)", "high-priority ticket", last(30)),
  open_tickets: count("Open tickets", "open ticket", ""),
  open_high_priority_tickets: count("Open high-priority tickets", "open high-priority ticket", ""),
  feature_request_tickets_90d: count("Feature requests (90 days)", "feature request", last(90)),
  avg_csat_90d: numeric(
    "CSAT (90 days)",
    (x) => `average CSAT ${dec1.format(x)} ${last(90)}`,
    `no CSAT ratings ${last(90)}`,
  ),
  avg_resolution_hours_90d: numeric(
    "Resolution time (90 days)",
    (x) => `tickets resolved in ${dec1.format(x)} hours on average ${last(90)}`,
    `no tickets resolved ${last(90)}`,
  ),
  latest_nps: numeric("Latest NPS", (x) => `latest NPS response ${int.format(x)}`, "no NPS response"),
  // billing and risk reviews
  late_invoices_180d: count("Late invoices (180 days)", "late invoice", last(180)),
  max_days_overdue: numeric("Days overdue", (x) =>
    x === 0 ? "no invoice overdue" : `an invoice ${plural(x, "day")} overdue`,
  ),
  failed_payments_90d: count("Failed payments (90 days)", "failed payment", last(90)),
  compliance_gap_score: numeric(
    "Compliance gap",
    (x) => `compliance gap on ${shareOf(x, "controls")}`,
    "no security review in the last year",
  ),
  vendor_risk_flags: count(
    "Vendor-risk findings",
    "open vendor-risk finding",
    "",
    undefined,
    "no security review in the last year",
  ),
  // commercial
  upgrades_180d: count("Upgrades (180 days)", "upgrade", last(180)),
  downgrades_180d: count("Downgrades (180 days)", "downgrade", last(180)),
  arr_change_180d: numeric("ARR change (180 days)", (x) =>
    x === 0 ? `no ARR change ${last(180)}` : `ARR ${x > 0 ? "up" : "down"} ${usd.format(Math.abs(x))} ${last(180)}`,
  ),
  has_open_expansion_opp: flag(
    "Open expansion opportunity",
    "an open expansion opportunity",
    "no open expansion opportunity",
  ),
  has_open_renewal_opp: flag("Open renewal opportunity", "an open renewal opportunity", "no open renewal opportunity"),
  open_expansion_amount: numeric("Open expansion amount", (x) =>
    x === 0 ? "no open expansion amount" : `${usd.format(x)} in open expansion opportunities`,
  ),
  // customer success touches
  outreach_30d: count("CS touches (30 days)", "CS touch", last(30), "CS touches"),
  days_since_last_outreach: numeric(
    "Days since the last CS touch",
    (x) => (x === 0 ? "a CS touch today" : `last CS touch ${plural(x, "day")} ago`),
    "no CS touch on record",
  ),
} satisfies Record<string, FeatureLabel>);

function entry(feature: string): FeatureLabel {
  const e = Object.hasOwn(FEATURE_LABELS, feature) ? FEATURE_LABELS[feature] : undefined;
  if (!e) throw new Error(`no plain-language label for feature "${feature}": add it to src/rules/labels.ts`);
  return e;
}

/** the label, or throws for an unknown feature (tests make sure every model feature has one) */
export function featureLabel(feature: string): string {
  return entry(feature).label;
}

export function describeFeature(feature: string, value: number | string | null): string {
  return entry(feature).describe(value);
}

/** Labels of the rule-based risk flags (Customer360.risk_flags keys; the site's `over_deployed`). */
const RISK_FLAG_LABELS: Readonly<Record<string, string>> = Object.freeze({
  low_events: "Low product usage",
  support_overload: "Support overload",
  onboarding_at_risk: "Onboarding at risk",
  payment_failing: "Failing payments",
  compliance_risk: "Compliance risk",
  over_deployed_users: "Users beyond the licence",
  over_deployed: "Users beyond the licence",
});

/** labels of rule risk flags (Customer360.risk_flags keys) */
export function riskFlagLabel(flag: string): string {
  const l = Object.hasOwn(RISK_FLAG_LABELS, flag) ? RISK_FLAG_LABELS[flag] : undefined;
  if (!l) throw new Error(`no plain-language label for risk flag "${flag}": add it to src/rules/labels.ts`);
  return l;
}

/** labels of health components (config.healthScore.components ids): their `label` in config.ts */
export function healthComponentLabel(id: string): string {
  const c = config.healthScore.components.find((x) => x.id === id);
  if (!c) throw new Error(`unknown health component "${id}" (config.healthScore.components)`);
  return c.label;
}

/** "my_column" → "My column": for names outside the registry only. */
const humanise = (id: string) => {
  const s = id.replace(/_+/g, " ").trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/**
 * A driver in words for display: the registry's label and description — or, for a feature it
 * does not know (a model trained on your own table: README "Your own table"), the column name
 * spelled out and the value as it is, so a custom model's drivers still show instead of failing
 * the page or the request. The shipped model's features always have entries (tests/labels.test.ts).
 */
export function featureWords(
  feature: string,
  value: number | string | boolean | null,
): {label: string; description: string} {
  const v = typeof value === "boolean" ? Number(value) : value;
  if (Object.hasOwn(FEATURE_LABELS, feature))
    return {label: featureLabel(feature), description: describeFeature(feature, v)};
  const label = humanise(feature);
  return {label, description: v === null ? `${lowerFirst(label)} missing` : `${lowerFirst(label)} ${String(v)}`};
}

/** A health component's label, or its id spelled out when the config no longer has it (an old alert). */
export function componentWords(id: string): string {
  return config.healthScore.components.find((x) => x.id === id)?.label ?? humanise(id);
}
