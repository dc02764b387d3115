/**
 * The CSM assistant's accuracy for the Model quality page: per week, generator (language model or
 * built-in) and audience (CSM or executive brief), the share of CSM ratings that say "accurate"
 * against the rollout plan's target (config.assistant.accuracyTarget), and the share of summaries
 * that passed every guardrail against config.assistant.guardrailPassTarget — always with how many
 * ratings a week holds, so a week rated twice is shown as too few to read, not as a trend.
 *
 * Reads marts.mart_assistant_quality as data/model_quality.json publishes it. Pure (no DOM, no
 * Plot), so Node tests import it; the charts are in model-quality.ts.
 */
import {config} from "../rules/config.js";
import {formatInt, formatPercent, formatPercent0} from "./format.js";

/** A row of marts.mart_assistant_quality (the last config.assistant.weeksShown weeks). */
export interface AssistantQualityWeek {
  /** YYYY-MM-DD, the Monday of the ISO week the summaries were made in */
  week: string;
  generator: "llm" | "builtin";
  audience: "csm" | "executive";
  made: number;
  guardrail_passed: number;
  rated: number;
  accurate: number;
  guardrail_pass_share: number | null;
  accuracy: number | null;
}

export const GENERATOR_LABELS: Record<AssistantQualityWeek["generator"], string> = {
  llm: "Language model",
  builtin: "Built-in",
};
export const AUDIENCE_LABELS: Record<AssistantQualityWeek["audience"], string> = {
  csm: "CSM brief",
  executive: "Executive brief",
};

/** One point of a chart: a week of one generator × audience. */
export interface AssistantPoint {
  week: string;
  /** "Language model · CSM brief" */
  series: string;
  generator: AssistantQualityWeek["generator"];
  audience: AssistantQualityWeek["audience"];
  made: number;
  rated: number;
  accurate: number;
  guardrail_passed: number;
  /** null when nobody rated that week */
  accuracy: number | null;
  guardrail_pass_share: number | null;
  /** at least config.assistant.minRatingsPerWeek ratings: the accuracy can be read */
  enough: boolean;
  /** at least as many summaries made: the guardrail pass share can be read */
  enough_made: boolean;
}

export type TargetStatus = "met" | "below" | "too_few" | "none";

export interface AssistantQuality {
  /** nobody has made or rated anything in the window */
  empty: boolean;
  /** no rating yet (summaries may have been made) */
  unrated: boolean;
  points: AssistantPoint[];
  /** the series present, in a fixed order (generator, then audience) */
  series: string[];
  totals: {
    made: number;
    guardrail_passed: number;
    rated: number;
    accurate: number;
    accuracy: number | null;
    guardrail_pass_share: number | null;
    accuracy_status: TargetStatus;
    guardrail_status: TargetStatus;
  };
  targets: {accuracy: number; guardrailPass: number; minRatingsPerWeek: number; weeks: number};
}

export const seriesLabel = (generator: AssistantQualityWeek["generator"], audience: AssistantQualityWeek["audience"]) =>
  `${GENERATOR_LABELS[generator]} · ${AUDIENCE_LABELS[audience]}`;

/**
 * Whether a share meets its target. Over the window a rate needs as many ratings as one readable
 * week (config.assistant.minRatingsPerWeek): fewer is "too_few", whatever the share.
 */
function status(share: number | null, n: number, target: number): TargetStatus {
  if (share === null || n === 0) return "none";
  if (n < config.assistant.minRatingsPerWeek) return "too_few";
  return share >= target ? "met" : "below";
}

export function assistantQuality(rows: readonly AssistantQualityWeek[]): AssistantQuality {
  const a = config.assistant;
  const order = (r: AssistantQualityWeek) =>
    Object.keys(GENERATOR_LABELS).indexOf(r.generator) * 10 + Object.keys(AUDIENCE_LABELS).indexOf(r.audience);
  const sorted = [...rows].sort((x, y) => (x.week !== y.week ? (x.week < y.week ? -1 : 1) : order(x) - order(y)));
  const points: AssistantPoint[] = sorted.map((r) => ({
    week: r.week,
    series: seriesLabel(r.generator, r.audience),
    generator: r.generator,
    audience: r.audience,
    made: r.made,
    rated: r.rated,
    accurate: r.accurate,
    guardrail_passed: r.guardrail_passed,
    accuracy: r.rated > 0 ? r.accurate / r.rated : null,
    guardrail_pass_share: r.made > 0 ? r.guardrail_passed / r.made : null,
    enough: r.rated >= a.minRatingsPerWeek,
    enough_made: r.made >= a.minRatingsPerWeek,
  }));
  const series = [
    ...new Set([...sorted].sort((x, y) => order(x) - order(y)).map((r) => seriesLabel(r.generator, r.audience))),
  ];
  const sum = (k: "made" | "guardrail_passed" | "rated" | "accurate") => rows.reduce((s, r) => s + r[k], 0);
  const [made, passed, rated, accurate] = [sum("made"), sum("guardrail_passed"), sum("rated"), sum("accurate")];
  const accuracy = rated > 0 ? accurate / rated : null;
  const share = made > 0 ? passed / made : null;
  return {
    empty: made === 0 && rated === 0,
    unrated: rated === 0,
    points,
    series,
    totals: {
      made,
      guardrail_passed: passed,
      rated,
      accurate,
      accuracy,
      guardrail_pass_share: share,
      accuracy_status: status(accuracy, rated, a.accuracyTarget),
      // guardrails are judged on every summary made, not on ratings
      guardrail_status: status(share, made, a.guardrailPassTarget),
    },
    targets: {
      accuracy: a.accuracyTarget,
      guardrailPass: a.guardrailPassTarget,
      minRatingsPerWeek: a.minRatingsPerWeek,
      weeks: a.weeksShown,
    },
  };
}

/** The KPI cards' contents (kpiRow takes them as they are). */
export function assistantKpis(q: AssistantQuality): {
  id: string;
  title: string;
  value: string;
  sub: string;
  tone?: "alert" | "good";
}[] {
  const t = q.totals;
  const tone = (s: TargetStatus) => (s === "met" ? "good" : s === "below" ? "alert" : undefined);
  const weeks = `last ${q.targets.weeks} weeks`;
  const accuracySub =
    t.accuracy_status === "none"
      ? "nobody has rated a summary yet"
      : `${formatInt(t.accurate)} of ${formatInt(t.rated)} ratings · target ≥ ${formatPercent0(q.targets.accuracy)}` +
        (t.accuracy_status === "too_few" ? " · too few ratings to judge" : "");
  const guardrailSub =
    t.guardrail_status === "none"
      ? "no summary made yet"
      : `${formatInt(t.guardrail_passed)} of ${formatInt(t.made)} summaries · target ≥ ${formatPercent0(q.targets.guardrailPass)}` +
        (t.guardrail_status === "too_few" ? " · too few to judge" : "");
  return [
    {
      id: "assistant-accuracy",
      title: `Rated accurate (${weeks})`,
      // one decimal: 79.6% must not read as the 80% it misses
      value: t.accuracy === null ? "—" : formatPercent(t.accuracy),
      sub: accuracySub,
      ...(tone(t.accuracy_status) && {tone: tone(t.accuracy_status)}),
    },
    {
      id: "assistant-guardrails",
      title: `Passed the guardrails (${weeks})`,
      value: t.guardrail_pass_share === null ? "—" : formatPercent(t.guardrail_pass_share),
      sub: guardrailSub,
      ...(tone(t.guardrail_status) && {tone: tone(t.guardrail_status)}),
    },
    {
      id: "assistant-rated",
      title: `Ratings (${weeks})`,
      value: formatInt(t.rated),
      sub: `of ${formatInt(t.made)} summaries and answers made`,
    },
  ];
}

/** What the empty accuracy chart says. */
export const NOBODY_RATED =
  "Nobody has rated a summary yet. CSMs rate each summary or answer in Customer 360 (accurate or not); the rates appear here after the next build.";
export const NOTHING_MADE =
  "No summary or answer has been made in these weeks: generate one from Customer 360 (or POST /summaries/customer) and it is counted after the next build.";

/** A readable cell for the table: "10 of 12 (83.3%)", or the counts alone when too few to read. */
export function rateCell(num: number, den: number, enough: boolean): string {
  if (den === 0) return "—";
  return `${formatInt(num)} of ${formatInt(den)}${enough ? ` (${formatPercent(num / den)})` : " · too few"}`;
}
