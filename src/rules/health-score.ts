/**
 * The health score's numbers — each component's weight and worst/best anchors, the optional
 * weights per segment and the bounds the tuner keeps to — live in src/rules/health-score.json,
 * a data file that `npm run health:tune -- --apply` writes and a person can read and edit
 * (a reviewable diff). What each component IS (its feature, label, direction, the data it
 * needs) stays in config.ts. This module reads the file, validates it against config.ts and
 * returns the merged components; a broken hand edit fails the build with every problem at its
 * place in the file.
 *
 * Node only (it reads a file): the pages read the weights the build scored with from the
 * warehouse (marts.int_score_weights), never from here.
 */
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {z} from "zod";
import {config, type HealthComponent} from "./config.ts";

export const HEALTH_SCORE_FILE = fileURLToPath(new URL("./health-score.json", import.meta.url));

/** The plan tier and the other account attributes a health score may be segmented by. */
export const SEGMENT_COLUMNS = ["plan_tier", "industry", "company_size"] as const;

const finite = z.number().refine(Number.isFinite, "must be a finite number");
const share = finite.refine((x) => x >= 0 && x <= 1, "must be between 0 and 1");

const ComponentNumbers = z
  .object({
    weight: share,
    worst: finite,
    best: finite,
    /** the tuner keeps the weight inside [minWeight, maxWeight] */
    minWeight: share.optional(),
    maxWeight: share.optional(),
  })
  .strict();

const Weights = z.record(z.string(), share);

const Segment = z
  .object({
    weights: Weights,
    /** churned accounts (summed over the fitting cutoffs) the weights were fitted on */
    churned: z.number().int().nonnegative(),
  })
  .strict();

export const HealthScoreFileSchema = z
  .object({
    about: z.string().optional(),
    /** what the tuner fitted on; null for hand-set numbers */
    fitted: z
      .object({
        at: z.string(),
        asOf: z.string(),
        fitCutoffs: z.array(z.string()),
        testCutoffs: z.array(z.string()),
        anchors: z.boolean(),
      })
      .strict()
      .nullable(),
    components: z.record(z.string(), ComponentNumbers),
    segmentBy: z.enum(SEGMENT_COLUMNS),
    /** a segment gets its own weights only with at least this many churned accounts to fit on */
    minSegmentChurned: z.number().int().positive(),
    /** segment value → its own weights; a segment not listed scores with the global weights */
    segments: z.record(z.string(), Segment),
    /** segments the tuner left on the global weights, and how many churned accounts they had */
    segmentsOnGlobal: z.record(z.string(), z.object({churned: z.number().int().nonnegative()}).strict()),
  })
  .strict();
export type HealthScoreFile = z.infer<typeof HealthScoreFileSchema>;

/** A component of config.ts with the file's numbers. */
export type ScoredComponent = HealthComponent & {
  weight: number;
  worst: number;
  best: number;
  minWeight: number;
  maxWeight: number;
};

export interface HealthScore {
  about?: string;
  components: ScoredComponent[];
  segmentBy: (typeof SEGMENT_COLUMNS)[number];
  minSegmentChurned: number;
  segments: Record<string, {weights: Record<string, number>; churned: number}>;
  segmentsOnGlobal: Record<string, {churned: number}>;
  fitted: HealthScoreFile["fitted"];
}

/** A health-score file that cannot be used; `problems` lists every one, each at its place. */
export class HealthScoreFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "HealthScoreFileError";
  }
}

const sumOf = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
const TOLERANCE = 1e-6;

/** Checks parsed numbers against config.ts's components; returns the problems, each with its path. */
function check(f: HealthScoreFile, defs: readonly HealthComponent[]): string[] {
  const problems: string[] = [];
  const ids = defs.map((d) => d.id);
  for (const id of Object.keys(f.components))
    if (!ids.includes(id))
      problems.push(`components.${id}: no such component in src/rules/config.ts (${ids.join(", ")})`);
  for (const d of defs) {
    const c = f.components[d.id];
    if (!c) {
      problems.push(`components.${d.id}: missing (every component of src/rules/config.ts needs its numbers)`);
      continue;
    }
    const higher = d.direction === "higher_is_healthier";
    if (higher ? !(c.worst < c.best) : !(c.worst > c.best))
      problems.push(
        `components.${d.id}: worst ${c.worst} and best ${c.best} run the wrong way — ${d.label} is ${d.direction.replaceAll("_", " ")}, so worst must be ${higher ? "below" : "above"} best`,
      );
    const lo = c.minWeight ?? 0;
    const hi = c.maxWeight ?? 1;
    if (lo > hi) problems.push(`components.${d.id}: minWeight ${lo} is above maxWeight ${hi}`);
    // weights are written with 4 decimals
    else if (c.weight < lo - 1e-4 || c.weight > hi + 1e-4)
      problems.push(`components.${d.id}.weight: ${c.weight} is outside its bounds [${lo}, ${hi}]`);
  }
  const weightSum = sumOf(Object.values(f.components).map((c) => c.weight));
  if (Math.abs(weightSum - 1) > TOLERANCE)
    problems.push(`components: the weights sum to ${Number(weightSum.toFixed(6))}, they must sum to 1`);
  const minSum = sumOf(Object.values(f.components).map((c) => c.minWeight ?? 0));
  if (minSum > 1 + TOLERANCE) problems.push(`components: the minWeights sum to ${minSum}, above 1`);
  for (const [seg, s] of Object.entries(f.segments)) {
    for (const id of Object.keys(s.weights))
      if (!ids.includes(id)) problems.push(`segments.${seg}.weights.${id}: no such component in src/rules/config.ts`);
    for (const id of ids) if (s.weights[id] === undefined) problems.push(`segments.${seg}.weights.${id}: missing`);
    const total = sumOf(Object.values(s.weights));
    if (Math.abs(total - 1) > TOLERANCE)
      problems.push(`segments.${seg}.weights: sum to ${Number(total.toFixed(6))}, they must sum to 1`);
    if (s.churned < f.minSegmentChurned)
      problems.push(
        `segments.${seg}: fitted on ${s.churned} churned accounts, fewer than minSegmentChurned (${f.minSegmentChurned}) — move it to segmentsOnGlobal`,
      );
    if (f.segmentsOnGlobal[seg]) problems.push(`segments.${seg}: also listed in segmentsOnGlobal`);
  }
  return problems;
}

/** Reads and validates a health-score file's text; `file` names it in errors. */
export function parseHealthScore(
  text: string,
  file: string,
  defs: readonly HealthComponent[] = config.healthScore.components,
): HealthScore {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HealthScoreFileError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
  const parsed = HealthScoreFileSchema.safeParse(json);
  if (!parsed.success)
    throw new HealthScoreFileError(
      file,
      parsed.error.issues.map((i) => `${i.path.join(".") || "(the file)"}: ${i.message}`),
    );
  const f = parsed.data;
  const problems = check(f, defs);
  if (problems.length) throw new HealthScoreFileError(file, problems);
  return {
    components: defs.map((d) => {
      const c = f.components[d.id]!;
      return {
        ...d,
        weight: c.weight,
        worst: c.worst,
        best: c.best,
        minWeight: c.minWeight ?? 0,
        maxWeight: c.maxWeight ?? 1,
      };
    }),
    segmentBy: f.segmentBy,
    minSegmentChurned: f.minSegmentChurned,
    segments: f.segments,
    segmentsOnGlobal: f.segmentsOnGlobal,
    fitted: f.fitted,
    about: f.about,
  };
}

/** The health score the build scores with: src/rules/health-score.json (or `file`), validated. */
export function loadHealthScore(file: string = process.env.SAASGUARD_HEALTH_SCORE ?? HEALTH_SCORE_FILE): HealthScore {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new HealthScoreFileError(file, [`cannot be read: ${(e as Error).message}`]);
  }
  return parseHealthScore(text, file);
}
