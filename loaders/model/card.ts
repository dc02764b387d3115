/**
 * The model card: the JSON document that travels with every ONNX model in `models/`.
 * `ModelCardSchema` (zod) is the trust boundary for cards read from disk or supplied by users.
 */
import {z} from "zod";
import {createHash} from "node:crypto";

const finite = z.number().refine(Number.isFinite, {message: "must be a finite number"});
const unit = finite.refine((v) => v >= 0 && v <= 1, {message: "must be between 0 and 1"});

export const CardFeatureSchema = z.discriminatedUnion("kind", [
  z.object({
    name: z.string().min(1),
    kind: z.literal("numeric"),
    encoding: z.literal("float32").default("float32"),
    /** the values it was trained on; prediction requests are checked against it */
    range: z
      .object({min: finite, max: finite, integer: z.boolean(), binary: z.boolean()})
      .refine((r) => r.min <= r.max, {message: "min must be ≤ max"})
      .optional(),
  }),
  z.object({
    name: z.string().min(1),
    kind: z.literal("categorical"),
    /** the input value is the 0-based index of the label in `categories`; NaN = missing/unknown */
    encoding: z.literal("index"),
    categories: z.array(z.string()).min(1),
  }),
]);

export const MetricsSchema = z.object({
  roc_auc: unit,
  pr_auc: unit,
  brier: unit,
  ece: unit,
  lift_top_decile: finite.refine((v) => v >= 0, {message: "must be ≥ 0"}),
  precision_at_50: unit,
  precision_at_100: unit,
  churned_scored_low_share: unit,
});

const share = finite.refine((v) => v >= 0 && v <= 10, {message: "must be a share of ARR between 0 and 10"});
export const ExpansionArrShareSchema = z.object({overall: share, by_plan_tier: z.record(z.string(), share)});
export type ExpansionArrShare = z.infer<typeof ExpansionArrShareSchema>;

export const ModelCardSchema = z
  .object({
    version: z.string().min(1),
    trained_at: z.iso.datetime({offset: true}),
    data_fingerprint: z.string().min(8),
    features: z.array(CardFeatureSchema).min(1),
    hyperparameters: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
    metrics: MetricsSchema,
    calibration: z.object({
      method: z.enum(["none", "platt", "isotonic"]),
      /** calibration curve on the evaluation set (equal-width bins) */
      curve: z.array(
        z.object({lo: unit, hi: unit, count: z.number().int().nonnegative(), meanPredicted: unit, observedRate: unit}),
      ),
      /** the fitted map from raw margin to probability: Platt {a, b} or isotonic {x[], y[]} */
      params: z.record(z.string(), z.union([finite, z.array(finite)])).optional(),
      /** mean |predicted − observed| over the test set's score deciles (the drift gate's measure) */
      decile_drift: unit.optional(),
    }),
    baseline: z.object({model: z.string().min(1), metrics: MetricsSchema}),
    /** AUC against the generating probabilities (synthetic data only), else null */
    truth_auc: unit.nullable(),
    /** how the model was trained: the data, label and (for churn models) the time-ordered cutoffs */
    training: z
      .object({
        source: z.enum(["warehouse", "table"]),
        label: z.string().min(1),
        rows: z.object({
          train: z.number().int().positive(),
          valid: z.number().int().positive(),
          test: z.number().int().positive(),
        }),
        positive_rate: unit,
        cutoffs: z
          .object({train: z.array(z.iso.date()), valid: z.array(z.iso.date()), test: z.array(z.iso.date())})
          .nullable(),
      })
      .optional(),
    /** exact TreeSHAP drivers: the tree structure beside the ONNX file (absent for foreign models) */
    explainer: z
      .object({
        kind: z.literal("treeshap"),
        file: z.string().min(1),
        sha256: z.string().length(64),
        expected_value: finite,
      })
      .nullable()
      .optional(),
    /**
     * expansion models only: the ARR an expansion adds as a share of the account's ARR (overall and
     * by plan tier), from the training history; expected expansion ARR = probability × share × ARR
     */
    expansion_arr_share: ExpansionArrShareSchema.optional(),
    /**
     * churn horizon models only: the months ahead it gives, and the last day of the outcomes its
     * training, calibration and test months hold (split by when the outcome fell)
     */
    horizon: z
      .object({
        months: z.number().int().positive(),
        outcomes_through: z.object({train: z.iso.date(), valid: z.iso.date(), test: z.iso.date()}),
      })
      .optional(),
    /** sha256 of the ONNX file the card describes; a mismatch means the files are out of step */
    onnx_sha256: z.string().length(64).optional(),
    onnx: z.object({
      input: z.object({
        name: z.string().min(1),
        shape: z.tuple([z.union([z.string(), z.number()]), z.number().int().positive()]),
      }),
      outputs: z.array(z.object({name: z.string().min(1), shape: z.array(z.union([z.string(), z.number()]))})).min(1),
    }),
  })
  .superRefine((card, ctx) => {
    const names = new Set<string>();
    card.features.forEach((f, i) => {
      if (names.has(f.name))
        ctx.addIssue({code: "custom", path: ["features", i, "name"], message: `duplicate feature name "${f.name}"`});
      names.add(f.name);
    });
    if (card.onnx.input.shape[1] !== card.features.length) {
      ctx.addIssue({
        code: "custom",
        path: ["onnx", "input", "shape", 1],
        message: `input width ${card.onnx.input.shape[1]} does not match the ${card.features.length} features listed`,
      });
    }
  });

export type ModelCard = z.infer<typeof ModelCardSchema>;
export type CardFeature = z.infer<typeof CardFeatureSchema>;

/** Parses a card, throwing an Error that lists every problem with its JSON path. */
export function parseModelCard(json: unknown, source = "model card"): ModelCard {
  const r = ModelCardSchema.safeParse(json);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
  throw new Error(`${source} is invalid:\n${lines.join("\n")}`);
}

/** The hex sha256 of a model file's bytes: the card holds the sums that tie its files together. */
export const sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
