/**
 * The installation's own words, and what SaaSGuard understands by them.
 *
 * Plan tiers, industries, ticket categories, CRM stages and product event names are each
 * company's own. The raw tables keep them as they are (the pages show them); what the product
 * reasons about is a small fixed set of meanings, and the vocabulary says which of the
 * installation's values means what: "Closed Won" is a won opportunity, a Zendesk "problem" is a
 * bug, a Segment "Report Exported" event is an export. SQL reads the meanings through the macros
 * of loaders/sql/int_vocabulary.sql, never the raw words.
 *
 * The defaults are the demo portfolio's words. A source mapping (loaders/sources.ts) declares an
 * installation's own under "vocabulary": an ordered list (plan tiers, industries …) replaces the
 * default list; a value → meaning map is merged over the default map, value by value.
 *
 * A value the vocabulary does not know is never a rejected row: it is counted and reported at
 * ingest and by `npm run sources`, and means `other` (UNKNOWN_MEANS says what that implies).
 */
import {z} from "zod";

/** Vocabularies whose values carry a meaning the product reasons about. */
export const MEANINGS = {
  /** ticket severity: "high-severity" tickets are high or urgent (support load, escalations) */
  ticketPriorities: ["low", "normal", "high", "urgent"],
  /** ticket category groups (feature requests feed the expansion proxy, bugs and outages escalate) */
  ticketCategories: ["bug", "outage", "how_to", "billing", "integration", "feature_request", "other"],
  /** opportunity status: an opportunity is open until it is won or lost */
  opportunityStages: ["open", "won", "lost"],
  /** opportunity type: renewals and expansions feed the features; new business is only shown */
  opportunityTypes: ["renewal", "expansion", "new_business", "other"],
  /** CS lifecycle stage (derived from tenure and renewal date when a value is unknown or absent) */
  lifecycleStages: ["Onboarding", "Adoption", "Mature", "Renewal"],
  /**
   * usage signals: engagement is config.engagementSignals; `active_users` rows carry distinct
   * active users per day (not an event count)
   */
  usageEvents: [
    "login",
    "feature_use",
    "integration",
    "api_call",
    "export",
    "premium_trial",
    "limit_hit",
    "active_users",
    "other",
  ],
  /** subscription change direction: upgrades and downgrades are features of the churn model */
  subscriptionChanges: ["upgrade", "downgrade", "seat_add", "seat_remove", "other"],
  /** payment attempt outcome: failed attempts are the dunning signal */
  paymentOutcomes: ["succeeded", "failed", "other"],
} as const;

export type MeaningKind = keyof typeof MEANINGS;
export type Meaning<K extends MeaningKind> = (typeof MEANINGS)[K][number];

/** Vocabularies that are only shown and ordered: any value is kept; unknown ones are reported. */
export const LISTS = ["industries", "companySizes", "outreachChannels", "churnReasons"] as const;
export type ListKind = (typeof LISTS)[number];

export interface PlanTier {
  name: string;
  /** the ARR a plan holds at most: the expansion proxy's "room left in the plan" */
  arrCeiling: number;
}

export type Vocabulary = {
  /** plan tiers, lowest first */
  planTiers: readonly PlanTier[];
} & {[K in ListKind]: readonly string[]} & {[K in MeaningKind]: Readonly<Record<string, Meaning<K>>>};

export type VocabularyKind = keyof Vocabulary;

/** What a value the vocabulary does not know is read as, per kind (it is always reported). */
export const UNKNOWN_MEANS: Record<VocabularyKind, string> = {
  planTiers: "kept; a plan without an ARR ceiling counts no room to expand",
  industries: "kept as they are",
  companySizes: "kept as they are",
  outreachChannels: "kept as they are",
  churnReasons: "kept as they are",
  ticketPriorities: "other: not high-severity",
  ticketCategories: "other: no category group",
  opportunityStages: "open: an in-between stage of your pipeline",
  opportunityTypes: "other: neither renewal nor expansion",
  lifecycleStages: "the stage is derived from tenure and renewal date",
  usageEvents: "other: counted nowhere",
  subscriptionChanges: "other: neither upgrade nor downgrade",
  paymentOutcomes: "other: neither a success nor a failure (pending, refunded …)",
};

/** The demo portfolio's words (what `npm run generate` writes). */
export const DEFAULT_VOCABULARY: Vocabulary = {
  planTiers: [
    {name: "Starter", arrCeiling: 15_000},
    {name: "Growth", arrCeiling: 80_000},
    {name: "Enterprise", arrCeiling: 500_000},
  ],
  industries: ["FinTech", "HealthTech", "Retail", "Manufacturing", "Media", "Education", "Logistics", "Software"],
  companySizes: ["1-50", "51-200", "201-1000", "1001-5000", "5000+"],
  outreachChannels: ["email", "call", "meeting", "ebr", "in_app"],
  churnReasons: ["budget", "competitor", "low_adoption", "product_gaps", "support_experience", "acquired", "other"],
  ticketPriorities: {low: "low", medium: "normal", high: "high", urgent: "urgent"},
  ticketCategories: {
    bug: "bug",
    how_to: "how_to",
    billing: "billing",
    integration: "integration",
    outage: "outage",
    feature_request: "feature_request",
  },
  opportunityStages: {
    prospecting: "open",
    qualification: "open",
    proposal: "open",
    negotiation: "open",
    closed_won: "won",
    closed_lost: "lost",
  },
  opportunityTypes: {renewal: "renewal", expansion: "expansion"},
  lifecycleStages: {Onboarding: "Onboarding", Adoption: "Adoption", Mature: "Mature", Renewal: "Renewal"},
  usageEvents: {
    login: "login",
    feature_use: "feature_use",
    integration_connect: "integration",
    api_call: "api_call",
    report_export: "export",
    premium_feature_trial: "premium_trial",
    feature_limit_hit: "limit_hit",
    active_users: "active_users",
  },
  subscriptionChanges: {upgrade: "upgrade", downgrade: "downgrade", seat_add: "seat_add", seat_remove: "seat_remove"},
  paymentOutcomes: {succeeded: "succeeded", failed: "failed"},
};

/** The demo's values of a kind, in order (what the synthetic generator draws from). */
export function valuesOf(v: Vocabulary, kind: VocabularyKind): string[] {
  const x = v[kind];
  return Array.isArray(x) ? x.map((e) => (typeof e === "string" ? e : (e as PlanTier).name)) : Object.keys(x);
}

const meaningMap = <K extends MeaningKind>(kind: K) =>
  z.record(
    z.string().min(1),
    z.enum(MEANINGS[kind] as unknown as [string, ...string[]], {
      message: `must be one of ${MEANINGS[kind].join(", ")}`,
    }),
  );
const list = z.array(z.string().min(1)).min(1, {message: "must list at least one value"});

/** The "vocabulary" of a source mapping: every kind optional. */
export const VocabularySchema = z.strictObject({
  planTiers: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        arrCeiling: z.number().positive({message: "must be a positive ARR"}),
      }),
    )
    .min(1, {message: "must list at least one plan tier, lowest first"})
    .refine((ts) => new Set(ts.map((t) => t.name)).size === ts.length, {message: "names a plan tier twice"})
    .optional(),
  industries: list.optional(),
  companySizes: list.optional(),
  outreachChannels: list.optional(),
  churnReasons: list.optional(),
  ticketPriorities: meaningMap("ticketPriorities").optional(),
  ticketCategories: meaningMap("ticketCategories").optional(),
  opportunityStages: meaningMap("opportunityStages").optional(),
  opportunityTypes: meaningMap("opportunityTypes").optional(),
  lifecycleStages: meaningMap("lifecycleStages").optional(),
  usageEvents: meaningMap("usageEvents").optional(),
  subscriptionChanges: meaningMap("subscriptionChanges").optional(),
  paymentOutcomes: meaningMap("paymentOutcomes").optional(),
});
export type VocabularyOverrides = z.infer<typeof VocabularySchema>;

/** The defaults with an installation's overrides: lists replace, meaning maps merge value by value. */
export function resolveVocabulary(o: VocabularyOverrides = {}, base: Vocabulary = DEFAULT_VOCABULARY): Vocabulary {
  const merged = {...base} as Record<string, unknown>;
  for (const [kind, value] of Object.entries(o)) {
    if (value === undefined) continue;
    merged[kind] = Array.isArray(value) ? value : {...(base[kind as MeaningKind] as object), ...value};
  }
  return merged as Vocabulary;
}

/** One row per (kind, value): what cfg.vocabulary holds. `rank` orders lists (plan tiers lowest first). */
export function vocabularyRows(
  v: Vocabulary,
): {kind: VocabularyKind; value: string; meaning: string | null; rank: number; arr_ceiling: number | null}[] {
  return [
    ...v.planTiers.map((t, i) => ({
      kind: "planTiers" as const,
      value: t.name,
      meaning: null,
      rank: i + 1,
      arr_ceiling: t.arrCeiling,
    })),
    ...LISTS.flatMap((kind) =>
      v[kind].map((value, i) => ({kind, value, meaning: null, rank: i + 1, arr_ceiling: null})),
    ),
    ...(Object.keys(MEANINGS) as MeaningKind[]).flatMap((kind) =>
      Object.entries(v[kind]).map(([value, meaning], i) => ({kind, value, meaning, rank: i + 1, arr_ceiling: null})),
    ),
  ];
}
