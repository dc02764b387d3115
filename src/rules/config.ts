/**
 * SaaSGuard's business rules — the ONE place where every business number lives.
 *
 * The build (loaders/), the API server (server/) and the dashboard pages (src/) all import
 * this module, so changing a weight, a band or a threshold here changes it everywhere.
 * It sits under src/ because Observable Framework only serves modules that live under its
 * root; Node code imports it from here as well.
 *
 * What it holds: the risk flags, quadrant, expansion proxy and uplift assumptions of the
 * dashboards; the playbooks' risk bands, timelines and escalations; the governance rules
 * (watermark, model retraining gates).
 */

import {playbooks, validatePlaybooks} from "./playbooks.js";
import {DEFAULT_VOCABULARY, type Meaning} from "./vocabulary.js";

export type RiskTier = "Critical" | "High" | "Medium" | "Low";
export const RISK_TIERS: readonly RiskTier[] = ["Critical", "High", "Medium", "Low"];

/** Risk-tier bands on the 0–100 rule-based risk score. Higher = riskier. */
export interface TierBand {
  tier: RiskTier;
  /** inclusive lower bound of the 0–100 risk score */
  minScore: number;
  /** health colour the CS team uses for the tier (Green / Yellow / Red) */
  colour: "Red" | "Yellow" | "Green";
  /** recommended action text shown in tables */
  recommendedAction: string;
  /** act-within window for the tier's playbook, in hours; null = standard cadence */
  actWithinHours: number | null;
}

/**
 * One component of the transparent health score: what it measures. Its numbers — weight and
 * the worst (0 points) / best (100 points) anchors it is mapped between linearly, clamped — live
 * in src/rules/health-score.json (read by src/rules/health-score.ts), which `npm run
 * health:tune` fits to history. The health score is the weight-averaged component score; risk
 * score = 100 − health score.
 */
export interface HealthComponent {
  /** stable id, also used as the driver name in `top_risk_drivers` */
  id: string;
  /** human label */
  label: string;
  /** column of marts.mart_customer_churn_features the component reads */
  feature: string;
  /** which way is healthy: the anchors (and the tuner's) must run this way */
  direction: "higher_is_healthier" | "lower_is_healthier";
  /** value used when the feature is NULL (no data yet, e.g. no NPS response) */
  whenMissing: number;
  /**
   * the data the component needs: when the installation has none of it (a product without
   * integrations, a company that runs no NPS survey), the component is left out and its weight
   * spread over the others, shown so on the pages — instead of scoring every account zero;
   * null when every installation has it
   */
  needs: Evidence | null;
}

/**
 * Kinds of data a score component can need; marts.int_data_coverage (loaders/sql) counts the
 * rows of each the installation has.
 */
export const EVIDENCE = [
  "engagement_events",
  "active_users",
  "integration_events",
  "api_calls",
  "exports",
  "premium_trials",
  "limit_hits",
  "support_tickets",
  "csat_scores",
  "nps_responses",
  "invoices",
  "opportunities",
  "subscription_changes",
  "payment_attempts",
  "risk_reviews",
] as const;
export type Evidence = (typeof EVIDENCE)[number];

/** Inputs of the rule-based expansion proxy; each normalised to [0,1] by `cap`. */
export interface ExpansionInput {
  feature: string;
  weight: number;
  /** the value at which the input counts fully (1.0) */
  cap: number;
  /** the data it needs (as HealthComponent.needs); null when every installation has it */
  needs: Evidence | null;
}

/** config.capacity: CSMs' weekly hours for CTA work and each play's effort (documented there). */
export interface CapacityRules {
  defaultHoursPerWeek: number;
  /** weekly hours by CSM name */
  perCsm: Readonly<Record<string, number>>;
  /** hours by playbook id */
  effortHoursByPlaybook: Readonly<Record<string, number>>;
  digestBeyondWeeks: number;
  digestBelowValuePerHour: number;
}

export const config = {
  /**
   * The demo portfolio's words for plan tiers, ticket categories, CRM stages, event names… and
   * their meanings (src/rules/vocabulary.ts). A source mapping declares an installation's own;
   * the plan tiers there carry the ARR ceiling of the expansion proxy.
   */
  vocabulary: DEFAULT_VOCABULARY,
  /** the usage signals that count as engagement events (events_last_30d, the usage components) */
  engagementSignals: ["login", "feature_use", "integration", "api_call", "export"] as readonly Meaning<"usageEvents">[],

  /**
   * The tiers that count as "at risk": the High + Critical figures of the KPIs, segments and
   * renewals, and the accounts whose renewal is escalated.
   */
  atRiskTiers: ["Critical", "High"] as readonly RiskTier[],
  /** Bands on the rule-based 0–100 risk score, highest first. */
  riskTiers: [
    {
      tier: "Critical",
      minScore: 80,
      colour: "Red",
      recommendedAction: "CRITICAL — escalate same day, EBR within 7 days",
      actWithinHours: 48,
    },
    {
      tier: "High",
      minScore: 60,
      colour: "Red",
      recommendedAction: "HIGH RISK — outreach within 48 hours",
      actWithinHours: 24 * 7,
    },
    {
      tier: "Medium",
      minScore: 40,
      colour: "Yellow",
      recommendedAction: "MEDIUM — add to watch list, next weekly review",
      actWithinHours: 24 * 14,
    },
    {
      tier: "Low",
      minScore: 0,
      colour: "Green",
      recommendedAction: "LOW — standard success cadence",
      actWithinHours: null,
    },
  ] satisfies TierBand[],

  /**
   * Bands on the model's calibrated P(churn in 90 days) that give the model-based tier. A B2B
   * portfolio with ~10–15% annual logo churn loses ~3–4% of accounts per quarter, so a 25%
   * quarterly churn probability is already ~7× the base rate: the bands sit far below the
   * 0–100 rule-score bands. Tune them to your base rate.
   */
  modelTiers: [
    {tier: "Critical", minProbability: 0.25},
    {tier: "High", minProbability: 0.12},
    {tier: "Medium", minProbability: 0.05},
    {tier: "Low", minProbability: 0},
  ] as {tier: RiskTier; minProbability: number}[],

  /**
   * The transparent health score (0–100, higher = healthier): its components. Their weights and
   * anchors: src/rules/health-score.json.
   */
  healthScore: {
    components: [
      {
        id: "usage_level",
        label: "Product usage (30d events per seat)",
        feature: "events_per_seat_30d",
        direction: "higher_is_healthier",
        whenMissing: 0,
        needs: "engagement_events",
      },
      {
        id: "usage_trend",
        label: "Usage trend (last 30d vs prior 60d)",
        feature: "usage_trend_ratio",
        direction: "higher_is_healthier",
        whenMissing: 1,
        needs: "engagement_events",
      },
      {
        id: "seat_utilisation",
        label: "Seat utilisation",
        feature: "seat_utilisation",
        direction: "higher_is_healthier",
        whenMissing: 0,
        needs: "active_users",
      },
      {
        id: "support_load",
        label: "High-priority tickets (30d)",
        feature: "high_priority_tickets_30d",
        direction: "lower_is_healthier",
        whenMissing: 0,
        needs: "support_tickets",
      },
      {
        id: "support_sentiment",
        label: "CSAT (90d average)",
        feature: "avg_csat_90d",
        direction: "higher_is_healthier",
        whenMissing: 3.5,
        needs: "csat_scores",
      },
      {
        id: "nps",
        label: "Latest NPS response",
        feature: "latest_nps",
        direction: "higher_is_healthier",
        whenMissing: 7,
        needs: "nps_responses",
      },
      // applies to onboarding accounts only: the feature is empty (no penalty) once onboarding is over
      {
        id: "activation",
        label: "Onboarding: integrations in first 30 days",
        feature: "onboarding_integrations",
        direction: "higher_is_healthier",
        whenMissing: 3,
        needs: "integration_events",
      },
      {
        id: "payment",
        label: "Late invoices (180d)",
        feature: "late_invoices_180d",
        direction: "lower_is_healthier",
        whenMissing: 0,
        needs: "invoices",
      },
      {
        id: "failed_payments",
        label: "Failed payments (90d)",
        feature: "failed_payments_90d",
        direction: "lower_is_healthier",
        whenMissing: 0,
        needs: "payment_attempts",
      },
      // no review yet reads as a middling gap: neither a clean bill nor a finding
      {
        id: "compliance_gap",
        label: "Compliance gap (latest review)",
        feature: "compliance_gap_score",
        direction: "lower_is_healthier",
        whenMissing: 0.3,
        needs: "risk_reviews",
      },
      {
        id: "vendor_risk",
        label: "Open vendor-risk findings",
        feature: "vendor_risk_flags",
        direction: "lower_is_healthier",
        whenMissing: 0,
        needs: "risk_reviews",
      },
      {
        id: "recent_usage",
        label: "Product usage this week (7d events)",
        feature: "events_last_7d",
        direction: "higher_is_healthier",
        whenMissing: 0,
        needs: "engagement_events",
      },
      {
        id: "active_days",
        label: "Active days (last 30)",
        feature: "active_days_30d",
        direction: "higher_is_healthier",
        whenMissing: 0,
        needs: "engagement_events",
      },
      // an account can only be lost at a renewal: one whose renewal falls inside the churn horizon
      // is exposed, one renewing next year is not (from the contract's renewal date)
      {
        id: "renewal_window",
        label: "Renewal inside the churn horizon (days to renewal)",
        feature: "days_to_renewal",
        direction: "higher_is_healthier",
        whenMissing: 365,
        needs: null,
      },
    ] satisfies HealthComponent[],
    /** how many components are listed in `top_risk_drivers` ("the two most active") */
    topDrivers: 2,
  },

  /** Boolean risk flags and their thresholds. */
  flags: {
    /** low_events: fewer than this many engagement events in the last 30 days */
    lowEventsThreshold30d: 5,
    /** support_overload: at least this many high/urgent tickets opened in the last 30 days */
    supportOverloadHighTickets: 2,
    /** onboarding_at_risk: account younger than this with fewer integrations than the gate */
    onboardingWindowDays: 90,
    /** activation gate: ≥ 3 integration connects in the first 30 days */
    activationGateIntegrations: 3,
    /** payment_failing: at least this many failed charge attempts in the last 90 days (dunning) */
    failedPayments90d: 2,
    /** compliance_risk: the latest review's compliance gap at or above this share of controls… */
    complianceGapScore: 0.5,
    /** …or at least this many open vendor-risk findings */
    vendorRiskFlags: 3,
  },

  /** Rule-based expansion proxy (weights sum to 1). */
  expansion: {
    inputs: [
      {feature: "premium_feature_trials_30d", weight: 0.3, cap: 5, needs: "premium_trials"},
      {feature: "feature_limit_hits_30d", weight: 0.25, cap: 10, needs: "limit_hits"},
      {feature: "feature_request_tickets_90d", weight: 0.15, cap: 3, needs: "support_tickets"},
      {feature: "has_open_expansion_opp", weight: 0.2, cap: 1, needs: "opportunities"},
      {feature: "mrr_tier_ceiling_pct", weight: 0.1, cap: 1, needs: null},
    ] satisfies ExpansionInput[],
    /** typical ARR expansion of a won upsell, as a share of current ARR (expected uplift proxy) */
    expectedUpliftShare: 0.3,
  },

  /**
   * The CSMs' calls on renewals (commit, likely, at risk, lost) beside the churn horizon model's
   * churn before the renewal, as the renewal checkpoint reviews use them.
   */
  renewalCalls: {
    /** a commit or likely call on a renewal the model gives at least this churn before it: the CSM is more hopeful than the model */
    hopefulAbove: 0.25,
    /** an at-risk or lost call on a renewal the model gives less than this: the CSM is more worried than the model */
    worriedBelow: 0.05,
    /** the checkpoint reviews, in days before the renewal: a call is due by each, and one made before it is stale after it */
    checkpointsDays: [180, 90],
  },

  /** Propensity quadrant rules. */
  quadrant: {
    highChurn: 0.5,
    lowChurn: 0.25,
    highExpansion: 0.5,
    lowExpansion: 0.25,
    /** an account counts as "contacted" when a CS touch was logged within this many days */
    contactedWithinDays: 30,
    labels: {
      flightRisk: "Flight Risk",
      growthEngine: "Growth Engine",
      churnCandidate: "Churn Candidate",
      stableBase: "Stable Base",
    },
  },

  /** Uplift simulator assumptions (Forrester 2023 benchmarks). */
  uplift: {
    costPerIntervention: 600,
    effectiveness: 0.15,
    scenarios: [0.1, 0.15, 0.2],
    accountCounts: [10, 25, 50, 100],
  },

  /**
   * A queue that respects capacity (loaders/sql/mart_csm_worklist.sql): each CSM's open CTAs are
   * ranked by expected ARR saved per hour of work (P(churn) × ARR × the play's effectiveness ÷
   * its effort); what fits the CSM's week is this week's queue, and what never will goes to a
   * weekly digest.
   */
  capacity: {
    /**
     * Hours a CSM spends on CTA work in a week: 12 of 40. The rest of the week is the standard
     * cadence of a book of ~45 accounts (scheduled check-ins, QBRs, onboarding calls), internal
     * meetings and admin — about a third of a CSM's week goes to reactive risk and renewal work.
     */
    defaultHoursPerWeek: 12,
    /**
     * Per-CSM weekly hours by CSM name (a part-timer, a team lead with a smaller book), e.g.
     * `{"Blake Adams": 6}`. An override set in the operational store (`setCapacity`, the API)
     * wins over these, which win over the default.
     */
    perCsm: {},
    /**
     * CSM hours a CTA asks for within its act-within window — the first steps of its play, not
     * the weeks of follow-up (src/rules/playbooks.ts), keyed by the playbooks CTA rules point at.
     */
    effortHoursByPlaybook: {
      /** executive escalation and briefing (1 h), exec-to-exec call with its preparation (2 h), save plan (3 h) */
      critical_risk: 6,
      /** root-cause review of the health dimensions and tickets (1 h), a dedicated call (1 h), the 30-day recovery plan (1 h) */
      high_risk: 3,
      /** data review (0.5 h) and a "value check-in" call (1 h) */
      medium_risk: 1.5,
      /** the activation check, its usage report and follow-up training for the laggards */
      onboarding: 2,
      /** a renewal stage's step: a reminder, a proposal sent or a contract chased */
      renewal: 1,
    },
    /**
     * CTAs ranked beyond this many weeks of a CSM's capacity go to the weekly digest: CTAs arrive
     * every night, so a CTA that does not fit now would never be reached. Lanes are recomputed
     * every build, so a digested CTA returns to the queue when it gains value or the week has room.
     */
    digestBeyondWeeks: 1,
    /**
     * A CTA expected to save less ARR than this per hour of work goes to the digest even when
     * the week has room: a fully loaded CSM hour costs about $50–75 ($100–150k a year over ~2,000
     * hours), so such a task costs more than it is expected to save.
     */
    digestBelowValuePerHour: 50,
  } satisfies CapacityRules as CapacityRules,

  /** Playbooks, CTA rules, escalation matrix and alerting rules (src/rules/playbooks.ts). */
  playbooks,

  /** Renewal playbook stages: days before renewal, from the renewal playbook. */
  renewalStagesDays: playbooks.renewal.stages.flatMap((s) => (s.daysBefore === null ? [] : [s.daysBefore])),

  /** How CSMs work CTAs in the operational store (loaders/store): what a change may say. */
  ctaWork: {
    /**
     * the reasons a CTA may be dismissed with: a fixed list, so dismissals can be counted and
     * a recurring "data_wrong" points at a broken source instead of hiding in free text
     */
    dismissReasons: ["not_relevant", "already_handled", "customer_declined", "duplicate", "data_wrong"],
    /** a snooze ends at most this many days ahead: longer is a dismissal in disguise */
    snoozeMaxDays: 90,
    /** longest note on a CTA, in characters (notes are working notes, not documents) */
    noteMaxChars: 4000,
    /** longest free-text snooze reason, in characters */
    reasonMaxChars: 200,
    /**
     * after a CSM marks a CTA done, the same trigger stays quiet this many days while it keeps
     * firing (the play needs time to work: the playbooks judge a save after ~30 days); a
     * dismissal stays quiet as long as the trigger keeps firing. Either ends early when the
     * account gets worse (a higher priority).
     */
    doneQuietDays: 30,
    /** the Playbook results page counts the CTAs raised in this many days (a quarter: the guide's review cadence) */
    reportWindowDays: 90,
  },

  /**
   * The executive brief (loaders/brief/): what changed in the portfolio since the previous build
   * and over the week, on the executive overview, and sent to the alert targets as a weekly digest.
   * "At risk" is config.atRiskTiers; the renewal window is a stage of the renewal playbook.
   */
  brief: {
    /**
     * renewals "entering the window" crossed into this renewal-playbook stage since the
     * comparison: the 60-day stage, when the proposal is presented and blockers escalated
     */
    renewalWindowStage: "renewal_60d" as string,
    /** the biggest movers listed each way (ARR at risk up, down) */
    movers: 5,
    /** at most this many accounts named in a list (new at-risk accounts, renewals); the rest are counted */
    listAccounts: 5,
    /**
     * the weekly digest goes out with the first build whose as-of date is on or after this
     * weekday in a week with no digest yet (ISO: 1 = Monday … 7 = Sunday), and covers the week
     * since the previous digest
     */
    digestWeekday: 1,
  },

  /** Governance. */
  governance: {
    watermark: "[AI-GENERATED SUMMARY — HUMAN REVIEW REQUIRED BEFORE EXTERNAL DISTRIBUTION]",
    /** a candidate model may lose at most this much ROC-AUC against the current one */
    maxAucDrop: 0.03,
    /**
     * calibration drift gate, in probability points (5 pp): the mean |predicted − observed|
     * churn over score deciles of a matured cohort
     */
    maxCalibrationDrift: 0.05,
    /**
     * the red flag for the health-score back-test: above this share of churned accounts
     * scored healthy (Low risk) before they left, the score has lost the team's trust
     */
    healthyChurnRedFlag: 0.2,
    /**
     * `npm run health:tune` aims under that red flag by this factor on the months it fits, so
     * later months have room to be worse (0.75 × 20% = at most 15% scored healthy)
     */
    healthTuneMargin: 0.75,
    /** what the nightly build does when the current model drifts past the gate */
    driftAction: "warn" as "warn" | "fail",
  },

  /** The CSM's assistant: account briefs, answers to questions about one account. */
  assistant: {
    /** "what changed" compares today's scores with the score history point this many days back (or the one before) */
    changeLookbackDays: 28,
    /**
     * the rollout plan's success metric: at least this share of the ratings CSMs give AI summaries
     * and answers say "accurate" (POST /summaries/{id}/feedback; /metrics, the Model quality page)
     */
    accuracyTarget: 0.8,
    /** at least this share of the summaries made pass every guardrail (a fallback after a failed LLM answer does not) */
    guardrailPassTarget: 0.9,
    /** longest feedback reason kept, in characters (after PII and instruction-like text are removed) */
    feedbackReasonMaxChars: 500,
    /** /metrics reports the accuracy and guardrail pass share over the last this many days (rolling) */
    windowDays: 28,
    /** the Model quality page shows this many weeks, up to the build's as-of date */
    weeksShown: 12,
    /**
     * a week with fewer ratings than this (or fewer summaries, for the guardrail pass share) is
     * shown with its count but not read as a rate: 2 ratings are not a trend
     */
    minRatingsPerWeek: 10,
  },

  /** Build-time data-quality rules. */
  dataQuality: {
    /** the newest usage event may be at most this many days older than the as-of date */
    maxStalenessDays: 2,
    /** dates more than this many days after the as-of date are rejected at ingest */
    maxFutureDays: 400,
    /** the churn horizon of the label and of the model (days) */
    churnHorizonDays: 90,
  },
} as const;

export type Config = typeof config;

/** Whether a tier counts as at risk (config.atRiskTiers). */
export function isAtRisk(tier: RiskTier): boolean {
  return config.atRiskTiers.includes(tier);
}

/** Days before renewal of the executive brief's renewal window (config.brief.renewalWindowStage). */
export function briefRenewalWindowDays(c: Config = config): number {
  const days = c.playbooks.renewal.stages.find((s) => s.id === c.brief.renewalWindowStage)?.daysBefore;
  if (days === undefined || days === null)
    throw new Error(`config.brief.renewalWindowStage: "${c.brief.renewalWindowStage}" is not a dated renewal stage`);
  return days;
}

/** Tier of a 0–100 rule-based risk score. */
export function tierOfRiskScore(score: number): RiskTier {
  for (const band of config.riskTiers) if (score >= band.minScore) return band.tier;
  return "Low";
}

/** Tier of a calibrated churn probability. */
export function tierOfProbability(p: number): RiskTier {
  for (const band of config.modelTiers) if (p >= band.minProbability) return band.tier;
  return "Low";
}

/**
 * Checks the invariants a hand-edited config must keep. The build calls it first, so a bad
 * edit fails loudly with the path of the bad value instead of producing wrong scores.
 */
export function validateConfig(c: Config = config): string[] {
  const problems: string[] = [];
  for (const t of c.atRiskTiers)
    if (!c.riskTiers.some((b) => b.tier === t)) problems.push(`config.atRiskTiers: unknown tier ${t}`);
  const sum = (xs: readonly {weight: number}[]) => xs.reduce((s, x) => s + x.weight, 0);
  if (Math.abs(sum(c.expansion.inputs) - 1) > 1e-9)
    problems.push(`config.expansion.inputs: weights sum to ${sum(c.expansion.inputs)}, must sum to 1`);
  const ids = c.healthScore.components.map((h) => h.id);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) problems.push(`config.healthScore.components[${i}]: id ${id} is used twice`);
  });
  const bands = c.riskTiers.map((t) => t.minScore);
  if (bands.some((b, i) => i > 0 && b >= bands[i - 1]!) || bands.at(-1) !== 0)
    problems.push(`config.riskTiers: minScore must strictly decrease and end at 0 (got ${bands.join(", ")})`);
  const probs = c.modelTiers.map((t) => t.minProbability);
  if (probs.some((b, i) => i > 0 && b >= probs[i - 1]!) || probs.at(-1) !== 0)
    problems.push(`config.modelTiers: minProbability must strictly decrease and end at 0 (got ${probs.join(", ")})`);
  if (!(c.quadrant.lowChurn < c.quadrant.highChurn)) problems.push("config.quadrant: lowChurn must be below highChurn");
  const rc = c.renewalCalls;
  if (!(rc.worriedBelow >= 0 && rc.worriedBelow < rc.hopefulAbove && rc.hopefulAbove <= 1))
    problems.push("config.renewalCalls: worriedBelow must be ≥ 0 and below hopefulAbove, which must be ≤ 1");
  if (
    !rc.checkpointsDays.length ||
    rc.checkpointsDays.some((d, i) => !(Number.isInteger(d) && d > 0 && (i === 0 || d < rc.checkpointsDays[i - 1]!)))
  )
    problems.push("config.renewalCalls.checkpointsDays: whole days > 0, furthest first");
  if (!(c.quadrant.lowExpansion < c.quadrant.highExpansion))
    problems.push("config.quadrant: lowExpansion must be below highExpansion");
  if (!(c.uplift.effectiveness > 0 && c.uplift.effectiveness <= 1))
    problems.push("config.uplift.effectiveness: must be in (0, 1]");
  if (c.uplift.costPerIntervention < 0) problems.push("config.uplift.costPerIntervention: must be ≥ 0");
  const work = c.ctaWork;
  const reasons: readonly string[] = work.dismissReasons;
  if (reasons.length === 0 || new Set(reasons).size !== reasons.length)
    problems.push("config.ctaWork.dismissReasons: must list at least one reason, each once");
  for (const key of ["snoozeMaxDays", "noteMaxChars", "reasonMaxChars", "doneQuietDays", "reportWindowDays"] as const)
    if (!(Number.isInteger(work[key]) && work[key] > 0))
      problems.push(`config.ctaWork.${key}: must be a positive whole number (got ${work[key]})`);
  for (const key of ["accuracyTarget", "guardrailPassTarget"] as const)
    if (!(c.assistant[key] > 0 && c.assistant[key] <= 1))
      problems.push(`config.assistant.${key}: must be a share in (0, 1] (got ${c.assistant[key]})`);
  for (const key of ["feedbackReasonMaxChars", "windowDays", "weeksShown", "minRatingsPerWeek"] as const)
    if (!(Number.isInteger(c.assistant[key]) && c.assistant[key] > 0))
      problems.push(`config.assistant.${key}: must be a positive whole number (got ${c.assistant[key]})`);
  const stage = c.playbooks.renewal.stages.find((s) => s.id === c.brief.renewalWindowStage);
  if (!stage || stage.daysBefore === null)
    problems.push(
      `config.brief.renewalWindowStage: "${c.brief.renewalWindowStage}" is not a dated stage of the renewal playbook (known: ${c.playbooks.renewal.stages.flatMap((s) => (s.daysBefore === null ? [] : [s.id])).join(", ")})`,
    );
  for (const key of ["movers", "listAccounts"] as const)
    if (!(Number.isInteger(c.brief[key]) && c.brief[key] > 0 && c.brief[key] <= 25))
      problems.push(`config.brief.${key}: must be a whole number from 1 to 25 (got ${c.brief[key]})`);
  if (!(Number.isInteger(c.brief.digestWeekday) && c.brief.digestWeekday >= 1 && c.brief.digestWeekday <= 7))
    problems.push(
      `config.brief.digestWeekday: must be an ISO weekday, 1 (Monday) to 7 (Sunday) (got ${c.brief.digestWeekday})`,
    );
  problems.push(...validateCapacity(c.capacity, c.playbooks.ctaRules));
  problems.push(...validatePlaybooks(c.playbooks, c));
  return problems;
}

/**
 * Checks config.capacity: hours are numbers in a week, every playbook a CTA rule points at has an
 * effort, and no effort names a playbook no CTA uses (a typo would silently fall back to nothing).
 */
export function validateCapacity(cap: CapacityRules, ctaRules: readonly {playbook: string}[]): string[] {
  const problems: string[] = [];
  const WEEK = 7 * 24;
  const hours = (path: string, v: unknown, min: "positive" | "zero") => {
    const ok = typeof v === "number" && Number.isFinite(v) && (min === "positive" ? v > 0 : v >= 0) && v <= WEEK;
    if (!ok)
      problems.push(
        `config.capacity.${path}: must be a number of hours ${min === "positive" ? "> 0" : "≥ 0"} and ≤ ${WEEK} (got ${JSON.stringify(v)})`,
      );
  };
  hours("defaultHoursPerWeek", cap.defaultHoursPerWeek, "positive");
  // 0 is allowed for one CSM: someone who takes no CTAs (a lead, a CSM on leave)
  for (const [csm, h] of Object.entries(cap.perCsm ?? {})) hours(`perCsm[${JSON.stringify(csm)}]`, h, "zero");
  const used = new Set(ctaRules.map((r) => r.playbook));
  for (const id of used)
    if (!(id in cap.effortHoursByPlaybook))
      problems.push(`config.capacity.effortHoursByPlaybook: no effort for playbook "${id}" (CTA rules raise it)`);
  for (const [id, h] of Object.entries(cap.effortHoursByPlaybook)) {
    if (!used.has(id))
      problems.push(
        `config.capacity.effortHoursByPlaybook.${id}: no CTA rule raises playbook "${id}" (known: ${[...used].join(", ")})`,
      );
    hours(`effortHoursByPlaybook.${id}`, h, "positive");
  }
  if (!(Number.isInteger(cap.digestBeyondWeeks) && cap.digestBeyondWeeks >= 1))
    problems.push(
      `config.capacity.digestBeyondWeeks: must be a whole number of weeks ≥ 1 (got ${JSON.stringify(cap.digestBeyondWeeks)})`,
    );
  if (!(typeof cap.digestBelowValuePerHour === "number" && cap.digestBelowValuePerHour >= 0))
    problems.push(
      `config.capacity.digestBelowValuePerHour: must be an amount of ARR per hour ≥ 0 (got ${JSON.stringify(cap.digestBelowValuePerHour)})`,
    );
  return problems;
}
