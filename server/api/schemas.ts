/**
 * zod schemas of every request and response: they validate input at the trust boundary and
 * generate the OpenAPI document served at /openapi.json (and rendered at /docs).
 */
import {z} from "@hono/zod-openapi";
import {RISK_TIERS} from "../../src/rules/config.ts";
import type {FeatureValue, ServedModel} from "./served-model.ts";
import {config as rules} from "../../src/rules/config.ts";
import {ACTOR_ROLES, FEEDBACK_VERDICTS, SUMMARY_ID} from "../../loaders/store/types.ts";

const Tier = z.enum(RISK_TIERS as unknown as [string, ...string[]]).openapi({example: "High"});

export const ProblemSchema = z
  .object({
    type: z.string().openapi({example: "https://saasguard.dev/problems/validation-failed"}),
    title: z.string().openapi({example: "Validation failed"}),
    status: z.number().int().openapi({example: 422}),
    detail: z.string().openapi({example: "1 input error: body.customer_id: must be a customer id"}),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z
      .array(z.object({field: z.string().openapi({example: "body.customer_id"}), message: z.string()}))
      .optional(),
  })
  .openapi("Problem");

export const problem = (description: string) => ({
  content: {"application/problem+json": {schema: ProblemSchema}},
  description,
});

export const CustomerIdParam = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, {message: "must be a customer id: 1–64 letters, digits, _ or -"})
    .openapi({param: {name: "id", in: "path"}, example: "C000001"}),
});

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    uptime_s: z.number(),
    data: z.object({
      available: z.boolean(),
      built_at: z.string().nullable(),
      as_of: z.string().nullable(),
      customers: z.number().nullable(),
      source: z.string().nullable(),
      error: z.string().nullable(),
    }),
    model: z.object({
      available: z.boolean(),
      version: z.string().nullable(),
      trained_at: z.string().nullable(),
      drivers: z.enum(["treeshap", "none"]).nullable(),
      error: z.string().nullable(),
    }),
    summaries: z.object({generator: z.enum(["llm", "builtin"]), llm_circuit_open: z.boolean()}),
  })
  .openapi("Health");

const ScoresSchema = z.object({
  churn_probability: z
    .number()
    .openapi({description: "the model's calibrated P(churn in the next 90 days)", example: 0.19}),
  model_tier: Tier,
  expected_arr_loss_90d: z.number(),
  model_top_drivers: z.array(z.string()),
  health_score: z.number().openapi({description: "transparent rule-based health score, 0–100 (higher is healthier)"}),
  risk_score: z.number(),
  risk_tier: Tier,
  health_colour: z.string(),
  arr_at_risk: z.number(),
  top_risk_drivers: z.array(z.string()),
  rule_recommended_action: z.string(),
});

const ProfileSchema = z.object({
  customer_id: z.string(),
  company_name: z.string(),
  industry: z.string(),
  company_size: z.string(),
  plan_tier: z.string(),
  csm_owner: z.string().nullable(),
  arr: z.number(),
  seats_purchased: z.number(),
  renewal_date: z.string().nullable(),
  days_to_renewal: z.number(),
  lifecycle_stage: z.string(),
  tenure_days: z.number(),
});

const FlagsSchema = z.object({
  low_events: z.boolean(),
  support_overload: z.boolean(),
  onboarding_at_risk: z.boolean(),
  payment_failing: z
    .boolean()
    .openapi({description: "failed charge attempts in the last 90 days at or above the flag"}),
  compliance_risk: z
    .boolean()
    .openapi({description: "the latest compliance review's gap or its open vendor-risk findings at or above the flag"}),
  over_deployed_users: z
    .number()
    .openapi({description: "people active on a day beyond the licensed seats (licence compliance and expansion)"}),
});
const UsageSchema = z.object({
  events_last_30d: z.number(),
  high_priority_tickets_30d: z.number(),
  open_tickets: z.number(),
});
const DataRefSchema = z.object({built_at: z.string(), as_of: z.string()});

export const CustomerSchema = z
  .object({
    profile: ProfileSchema,
    scores: ScoresSchema,
    risk_flags: FlagsSchema,
    usage: UsageSchema,
    data: DataRefSchema,
  })
  .openapi("Customer");

const Disagreement = z.enum(["watermelon", "false_alarm"]);

export const DisagreementQuery = z.object({
  type: Disagreement.optional().openapi({
    description: "watermelon: healthy by the score, at risk by the model; false_alarm: the reverse (default: both)",
  }),
  limit: z.coerce
    .number({message: "must be a whole number from 1 to 1000"})
    .int({message: "must be a whole number from 1 to 1000"})
    .min(1, {message: "must be a whole number from 1 to 1000"})
    .max(1000, {message: "must be a whole number from 1 to 1000"})
    .default(100),
});

export const DisagreementsSchema = z
  .object({
    data: DataRefSchema,
    total: z.number().openapi({description: "disagreeing accounts tonight (of the requested type), before the limit"}),
    backtest: z
      .array(
        z.object({
          disagreement: z.enum(["watermelon", "false_alarm", "rest", "all"]),
          accounts: z.number(),
          churned: z.number(),
          churn_rate: z.number(),
          first_cutoff: z.string(),
          last_cutoff: z.string(),
        }),
      )
      .openapi({description: "on the back-test cutoffs: how many accounts of each group churned within 90 days"}),
    accounts: z.array(
      z.object({
        customer_id: z.string(),
        company_name: z.string(),
        csm_owner: z.string().nullable(),
        plan_tier: z.string(),
        arr: z.number(),
        disagreement: Disagreement,
        health_score: z.number(),
        risk_tier: Tier,
        top_risk_drivers: z.array(z.string()),
        churn_probability: z.number(),
        model_tier: Tier,
        model_top_drivers: z.array(z.string()),
        expected_arr_loss_90d: z.number(),
      }),
    ),
  })
  .openapi("Disagreements");

/** A model's TreeSHAP driver for one account, in words; `directions`: what a positive and a negative contribution do. */
const driverSchema = <D extends [string, string]>(directions: D) =>
  z.object({
    rank: z.number(),
    feature: z.string().openapi({description: "the model feature's column name (for machines)"}),
    label: z.string().openapi({description: "the feature in words (src/rules/labels.ts)", example: "Days to renewal"}),
    description: z
      .string()
      .openapi({description: "the account's value as a CSM says it", example: "renews in 27 days"}),
    value: z.string().nullable(),
    contribution: z.number().openapi({description: "its TreeSHAP contribution, in log-odds"}),
    direction: z.enum(directions),
  });

export const Customer360Schema = z
  .object({
    customer_id: z.string(),
    data: DataRefSchema,
    scored_by_model_version: z.string().nullable(),
    profile: ProfileSchema,
    scores: ScoresSchema,
    risk_flags: FlagsSchema,
    usage: UsageSchema,
    expansion: z.object({
      upgrade_propensity_proxy: z.number(),
      premium_feature_trials_30d: z.number(),
      feature_limit_hits_30d: z.number(),
      feature_request_tickets_90d: z.number(),
      has_open_expansion_opp: z.boolean(),
      mrr_tier_ceiling_pct: z.number(),
    }),
    expansion_model: z
      .object({
        probability: z
          .number()
          .openapi({description: "calibrated P(a won expansion opportunity or an upgrade in 90 days)"}),
        expected_expansion_arr: z.number().openapi({
          description: "probability × the share of ARR an expansion of the plan tier added in training history × ARR",
        }),
        drivers: z.array(driverSchema(["raises_expansion", "lowers_expansion"])),
      })
      .nullable()
      .openapi({
        description:
          "The expansion model beside the rule-based proxy (`expansion`): its probability, expected ARR and top TreeSHAP drivers (log-odds); null for a build without it",
      }),
    is_flight_risk: z.boolean().openapi({
      description:
        "The account is in the model quadrant's Flight Risk corner: high churn probability from the model and high expansion proxy (thresholds from config.quadrant)",
    }),
    quadrant: z
      .object({
        model_quadrant: z
          .string()
          .openapi({description: "quadrant on the churn model's calibrated P(churn in 90 days)"}),
        health_quadrant: z.string().openapi({
          description: "quadrant on the health score's risk (risk_score / 100), as the Propensity Quadrant page",
        }),
        churn_probability: z.number(),
        health_risk: z.number(),
        upgrade_propensity_proxy: z.number(),
      })
      .openapi({
        description:
          "The propensity quadrant on two churn axes, read from marts.mart_propensity_quadrant: they can disagree, and both are shown",
      }),
    drivers: z.array(driverSchema(["raises_risk", "lowers_risk"])),
    recommended_action: z.string(),
    open_tickets: z.array(
      z.object({
        ticket_id: z.string(),
        opened_at: z.string(),
        priority: z.string(),
        category: z.string().nullable(),
        subject: z.string().nullable(),
      }),
    ),
    opportunities: z.array(
      z.object({
        opportunity_id: z.string(),
        opportunity_type: z.string(),
        stage: z.string(),
        amount: z.number(),
        created_date: z.string().nullable(),
        close_date: z.string().nullable(),
        open: z.boolean(),
      }),
    ),
  })
  .openapi("Customer360");

/** Limits of the generic prediction request (also what `ServedModel.isValidFeatures` can prove). */
export const FEATURE_NAME_MAX = 100;
export const FEATURE_TEXT_MAX = 200;
const INSTANCE_ID_MAX = 128;

const FeatureValueSchema = z.union([z.number(), z.string().max(FEATURE_TEXT_MAX), z.boolean(), z.null()]);
const Features = z.record(z.string().max(FEATURE_NAME_MAX), FeatureValueSchema).openapi({
  description: "feature values keyed by the model card's feature names (every feature; null = missing)",
  example: {plan_tier: "Growth", arr: 62792.3, events_last_30d: 1588},
});

export function predictionRequestSchema(batchLimit: number) {
  return z
    .strictObject({
      features: Features.optional(),
      instances: z
        .array(z.strictObject({id: z.string().max(INSTANCE_ID_MAX).optional(), features: Features}))
        .min(1, {message: "must hold at least one instance"})
        .max(batchLimit, {message: `must hold at most ${batchLimit} instances (PREDICTION_BATCH_LIMIT)`})
        .optional(),
    })
    .refine((b) => (b.features === undefined) !== (b.instances === undefined), {
      message: "send either `features` (one account) or `instances` (a batch), not both and not neither",
    })
    .openapi("PredictionRequest");
}

export interface PredictionItem {
  id: string | null;
  features: Record<string, FeatureValue>;
  /** where the features are in the body, for error messages */
  where: string;
}

/**
 * The items of a prediction body if it is proven valid against `predictionRequestSchema` AND
 * the model's features — `{"features": {...}}` or `{"instances": [{"id"?, "features"}, ...]}`
 * with 1..limit instances — else null (not proven: the zod route decides and explains).
 */
export function provenPredictionItems(m: ServedModel, body: unknown, limit: number): PredictionItem[] | null {
  if (typeof body !== "object" || body === null || Object.getPrototypeOf(body) !== Object.prototype) return null;
  const keys = Object.keys(body);
  if (keys.length !== 1) return null;
  const b = body as {features?: unknown; instances?: unknown};
  if (keys[0] === "features")
    return m.isValidFeatures(b.features) ? [{id: null, features: b.features, where: "body.features"}] : null;
  if (keys[0] !== "instances" || !Array.isArray(b.instances) || b.instances.length < 1 || b.instances.length > limit)
    return null;
  const items: PredictionItem[] = [];
  for (const x of b.instances as unknown[]) {
    if (typeof x !== "object" || x === null || Object.getPrototypeOf(x) !== Object.prototype) return null;
    const {id, features, ...rest} = x as {id?: unknown; features?: unknown};
    if (
      Object.keys(rest).length ||
      !Object.hasOwn(x, "features") ||
      (id !== undefined && (typeof id !== "string" || id.length > INSTANCE_ID_MAX))
    )
      return null;
    if (!m.isValidFeatures(features)) return null;
    items.push({id: (id as string | undefined) ?? null, features, where: `body.instances[${items.length}].features`});
  }
  return items;
}

export const PredictionResponseSchema = z
  .object({
    model_version: z.string(),
    predictions: z.array(
      z.object({
        id: z.string().nullable(),
        churn_probability: z.number(),
        raw_score: z.number(),
        risk_tier: Tier,
        top_drivers: z.array(
          z.object({
            feature: z.string().openapi({description: "the model feature's name (for machines)"}),
            label: z
              .string()
              .openapi({description: "the feature in words (src/rules/labels.ts)", example: "Days to renewal"}),
            description: z
              .string()
              .openapi({description: "the value sent, as a CSM says it", example: "renews in 27 days"}),
            value: FeatureValueSchema,
            contribution: z.number(),
            direction: z.enum(["raises_risk", "lowers_risk"]),
          }),
        ),
        out_of_training_range: z
          .array(z.object({feature: z.string(), value: z.number(), min: z.number(), max: z.number()}))
          .openapi({
            description:
              "numeric values outside the range the model was trained on (model card): scored as the nearest value the model saw, so less reliable",
          }),
      }),
    ),
  })
  .openapi("PredictionResponse");

/** Longest CSM request (`instructions`) a summary request may carry. */
export const INSTRUCTIONS_MAX = 500;

export const FOCUS = ["overall", "risk", "renewal", "expansion", "support"] as const;
export const AUDIENCES = ["csm", "executive"] as const;

export const SummaryRequestSchema = z
  .strictObject({
    customer_id: z
      .string({message: "must be a string"})
      .regex(/^[A-Za-z0-9_-]{1,64}$/, {message: "must be a customer id: 1–64 letters, digits, _ or -"})
      .openapi({example: "C000001"}),
    focus: z.enum(FOCUS, {message: `must be one of ${FOCUS.join(", ")}`}).default("overall"),
    audience: z
      .enum(AUDIENCES, {message: `must be one of ${AUDIENCES.join(", ")}`})
      .default("csm")
      .openapi({
        description:
          "csm: what to know and do before the next customer call; executive: the ARR at stake, the trend and the ask",
      }),
    instructions: z
      .string()
      .max(INSTRUCTIONS_MAX, {message: `must be at most ${INSTRUCTIONS_MAX} characters`})
      .nullable()
      .optional()
      .openapi({example: "Focus on renewal risk before the EBR"}),
  })
  .openapi("SummaryRequest");

export const SummaryResponseSchema = z
  .object({
    id: z
      .string()
      .openapi({description: "what POST /summaries/{id}/feedback rates", example: "sum_3f9a0c1d2e4b5a6978812345"}),
    customer_id: z.string(),
    account_name: z
      .string()
      .nullable()
      .openapi({description: "the account's name, written where the model saw only its token"}),
    audience: z.enum(AUDIENCES),
    account_token: z.string(),
    generator: z.enum(["llm", "builtin"]),
    llm_model: z.string().nullable(),
    flagged: z.boolean(),
    fallback_reason: z.string().nullable(),
    guardrail: z.object({passed: z.boolean(), attempts: z.number(), failures: z.array(z.string())}),
    summary: z.object({
      headline: z.string(),
      risk_level: z.string(),
      summary: z.string(),
      key_points: z.array(z.string()),
      recommended_actions: z.array(z.string()),
      out_of_scope: z.boolean().optional(),
    }),
    text: z.string(),
    watermark: z.string(),
    data_version: z.string(),
    model_version: z.string(),
    cached: z.boolean(),
    generated_at: z.string(),
  })
  .openapi("SummaryResponse");

/** Longest question `POST /summaries/customer/ask` accepts. */
export const QUESTION_MAX = 300;

export const AskRequestSchema = z
  .strictObject({
    customer_id: SummaryRequestSchema.shape.customer_id,
    question: z
      .string({message: "must be a string"})
      .trim()
      .min(3, {message: "must be a question of at least 3 characters"})
      .max(QUESTION_MAX, {message: `must be at most ${QUESTION_MAX} characters`})
      .openapi({example: "What drove the ticket surge?"}),
  })
  .openapi("AskRequest");

export const AskResponseSchema = z
  .object({
    id: z.string(),
    customer_id: z.string(),
    account_name: z.string().nullable(),
    account_token: z.string(),
    question: z.string().openapi({description: "the question as it was read (personal data removed)"}),
    refused: z
      .boolean()
      .openapi({description: "true when the question is not one this account's facts answer; `answer` says why"}),
    answer: z.string(),
    cited_facts: z
      .array(z.object({fact: z.string(), label: z.string(), value: z.unknown()}))
      .openapi({description: "the account facts the answer used"}),
    generator: z.enum(["llm", "builtin"]),
    llm_model: z.string().nullable(),
    flagged: z.boolean(),
    fallback_reason: z.string().nullable(),
    guardrail: z.object({passed: z.boolean(), attempts: z.number(), failures: z.array(z.string())}),
    text: z.string(),
    watermark: z.string(),
    data_version: z.string(),
    model_version: z.string(),
    cached: z.boolean(),
    generated_at: z.string(),
  })
  .openapi("AskResponse");

export const ReloadResponseSchema = z
  .object({data: z.object({built_at: z.string().nullable()}), model: z.object({version: z.string().nullable()})})
  .openapi("ReloadResult");

/** POST /admin/alerts/test: send a signed test alert to one configured webhook target. */
export const TestAlertRequestSchema = z
  .strictObject({
    target: z
      .string({message: "must be a string"})
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {message: "must be a target name"})
      .openapi({example: "cs-slack"}),
  })
  .openapi("TestAlertRequest");
export const TestAlertResponseSchema = z
  .object({
    id: z.string(),
    target: z.string(),
    ok: z.boolean(),
    status: z.number().int().nullable(),
    detail: z.string().nullable(),
  })
  .openapi("TestAlertResult");

/** POST /summaries/{id}/feedback: a CSM says whether a summary or answer was right (routes/feedback.ts). */
export const SummaryIdParam = z.object({
  id: z
    .string()
    .regex(SUMMARY_ID, {message: "must be a summary id: sum_ and 24 hexadecimal characters"})
    .openapi({
      param: {name: "id", in: "path"},
      example: "sum_0f3c9a2d4b5e6f708192a3b4",
      description: "the `id` of the summary or answer, as the summary and ask endpoints return it",
    }),
});

export const SummaryFeedbackRequestSchema = z
  .strictObject({
    verdict: z
      .enum(FEEDBACK_VERDICTS, {message: `must be one of ${FEEDBACK_VERDICTS.join(", ")}`})
      .openapi({example: "inaccurate"}),
    reason: z
      .string({message: "must be text"})
      .max(rules.assistant.feedbackReasonMaxChars, {
        message: `must be at most ${rules.assistant.feedbackReasonMaxChars} characters`,
      })
      .nullable()
      .optional()
      .openapi({
        example: "The renewal date is wrong",
        description:
          "optional: what was wrong (or right). Emails, phone numbers, links and instruction-like text are removed before it is stored.",
      }),
  })
  .openapi("SummaryFeedbackRequest");

export const SummaryFeedbackSchema = z
  .object({
    summary_id: z.string(),
    verdict: z.enum(FEEDBACK_VERDICTS),
    reason: z.string().nullable().openapi({description: "the reason as stored, after PII was removed"}),
    actor: z
      .string()
      .openapi({description: "who rated: the key's or the signed-in person's name; `anonymous` with no API keys"}),
    role: z.enum(ACTOR_ROLES),
    at: z.string().openapi({description: "ISO time of this rating (a repeated identical rating keeps the first)"}),
  })
  .openapi("SummaryFeedback");

// ---- bulk reads: GET /customers and GET /predictions/batch (server/api/bulk.ts), GET /ready

/** Largest page of the bulk endpoints: a 1,000-account page is ~1 MB of JSON, made in ~10 ms. */
export const BULK_PAGE_MAX = 1000;

const TIER_LIST = new RegExp(`^(${RISK_TIERS.join("|")})(,(${RISK_TIERS.join("|")}))*$`);
const tierList = (what: string) =>
  z
    .string({message: "must be given once (several tiers go in one value, separated by commas)"})
    .regex(TIER_LIST, {message: `must be one or more of ${RISK_TIERS.join(", ")}, separated by commas`})
    .optional()
    .openapi({description: `${what}: one or more tiers, separated by commas`, example: "High,Critical"});
const once = "must be given once";
/** a build's `data.built_at` as the API returns it, an ISO time, or a date */
const BUILD_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const pageLimit = (fallback: number) =>
  z.coerce
    .number({message: `must be a whole number from 1 to ${BULK_PAGE_MAX}`})
    .int({message: `must be a whole number from 1 to ${BULK_PAGE_MAX}`})
    .min(1, {message: `must be a whole number from 1 to ${BULK_PAGE_MAX}`})
    .max(BULK_PAGE_MAX, {message: `must be a whole number from 1 to ${BULK_PAGE_MAX}`})
    .default(fallback)
    .openapi({description: `accounts per page, 1 to ${BULK_PAGE_MAX}`});

const bulkFilters = {
  tier: tierList("the health score's tier (risk_tier)"),
  model_tier: tierList("the churn model's tier (model_tier)"),
  owner: z
    .string({message: once})
    .min(1, {message: "must not be empty"})
    .max(120, {message: "must be at most 120 characters"})
    .optional()
    .openapi({description: "the CSM who owns the account, exactly as the CRM spells it", example: "Alex Garcia"}),
  plan: z
    .string({message: once})
    .min(1, {message: "must not be empty"})
    .max(80, {message: "must be at most 80 characters"})
    .optional()
    .openapi({description: "the plan, as the installation names it (any letter case)", example: "Growth"}),
  changed_since: z
    .string({message: once})
    .regex(BUILD_TIME, {message: "must be a build time (data.built_at) or a date YYYY-MM-DD"})
    .optional()
    .openapi({
      description:
        "only accounts whose model tier or health-score tier changed since that build (its `data.built_at`) or date — compared with the warehouse's score history point on or before it (monthly points and tonight; `changed_since.compared_with` in the answer says which), new accounts included. A sync that passes the built_at of its last pull misses no change.",
      example: "2026-11-01",
    }),
  cursor: z
    .string({message: once})
    .min(1, {message: "must not be empty"})
    .max(2000, {message: "must be at most 2000 characters"})
    .optional()
    .openapi({
      description:
        "`next_cursor` of the page before, unchanged, with the same filters. A cursor belongs to one build: after a new build it is refused (409) — start again, or ask for changed_since.",
    }),
};
/** Unknown query parameters are refused by name: a misspelt filter would otherwise return everything. */
const unknownParameters = {
  error: (iss: {code?: string; keys?: string[]}) =>
    iss.code === "unrecognized_keys"
      ? `unknown query parameter${iss.keys!.length === 1 ? "" : "s"} ${iss.keys!.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}`
      : undefined,
};

export const CustomerListQuery = z.strictObject({...bulkFilters, limit: pageLimit(100)}, unknownParameters);

export const BatchQuery = z.strictObject(
  {
    ...bulkFilters,
    limit: pageLimit(BULK_PAGE_MAX).openapi({
      description: `accounts per JSON page, 1 to ${BULK_PAGE_MAX} (the NDJSON stream holds every account and ignores it)`,
    }),
    format: z.enum(["json", "ndjson"], {message: "must be json or ndjson"}).optional().openapi({
      description:
        "`ndjson`: every matching account as one stream, one JSON object a line (as `Accept: application/x-ndjson`); `json` (default): pages",
    }),
  },
  unknownParameters,
);

const ChangedSinceSchema = z
  .object({
    requested: z.string(),
    compared_with: z
      .string()
      .openapi({description: "the score-history point compared with (a date)", example: "2026-11-01"}),
  })
  .nullable()
  .openapi({description: "how changed_since was read; null when not asked"});
const pageFields = {
  total: z.number().int().openapi({description: "accounts matching the filters in this build, over all pages"}),
  next_cursor: z
    .string()
    .nullable()
    .openapi({description: "pass as `cursor` for the next page; null on the last page"}),
  changed_since: ChangedSinceSchema,
};

export const CustomerPageSchema = z
  .object({
    data: DataRefSchema,
    ...pageFields,
    items: z
      .array(z.object({profile: ProfileSchema, scores: ScoresSchema, risk_flags: FlagsSchema, usage: UsageSchema}))
      .openapi({description: "accounts in customer_id order, each as GET /customers/{id} gives it"}),
  })
  .openapi("CustomerPage");

export const BatchItemSchema = z
  .object({
    customer_id: z.string(),
    company_name: z.string(),
    churn_probability: z.number().openapi({description: "the model's calibrated P(churn in the next 90 days)"}),
    model_tier: Tier,
    expected_arr_loss_90d: z.number(),
    health_score: z.number(),
    risk_tier: Tier,
    arr_at_risk: z.number(),
    recommended_action: z.string().openapi({description: "the model tier's action (config.riskTiers)"}),
    drivers: Customer360Schema.shape.drivers.openapi({
      description: "the model's TreeSHAP drivers of this account, largest first (as in the 360 view)",
    }),
  })
  .openapi("BatchPrediction");

export const BatchPageSchema = z
  .object({
    data: DataRefSchema,
    scored_by_model_version: z.string().nullable(),
    ...pageFields,
    items: z.array(BatchItemSchema).openapi({description: "accounts in customer_id order"}),
  })
  .openapi("BatchPredictions");

export const ReadySchema = z
  .object({
    status: z.literal("ready"),
    data: z.object({built_at: z.string(), as_of: z.string(), customers: z.number()}),
    model: z.object({version: z.string()}),
  })
  .openapi("Ready");
