/**
 * The one engine that turns the rules and the SQL files into tables: `loadRules` puts the
 * business rules (src/rules/config.ts and playbooks.ts) into DuckDB — list-like rules as cfg.*
 * tables, scalars as session variables read with getvariable('name') — and `runSteps` runs the
 * SQL files of loaders/sql/ listed in loaders/sql/steps.ts, in order, timing each and counting
 * the rows of each table it creates. The build, the CTA carry-over, training and the benchmarks
 * all go through these two functions.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {config, validateCapacity, type CapacityRules} from "../src/rules/config.ts";
import {loadHealthScore, type HealthScore} from "../src/rules/health-score.ts";
import {FEATURE_LABELS} from "../src/rules/labels.ts";
import {normalQuantile, priorityLabel} from "../src/rules/dashboard-math.ts";
import {
  holdoutShareOf,
  playbooks as defaultPlaybooks,
  PRIORITIES,
  type Playbooks,
  type Priority,
} from "../src/rules/playbooks.ts";
import {vocabularyRows, type Vocabulary} from "../src/rules/vocabulary.ts";
import {one, setVariables, writeTable} from "./duckdb.ts";
import {SQL_STEPS, type Phase, type SqlStep} from "./sql/steps.ts";
import type {StepReuse} from "./refresh.ts";

const SQL_DIR = fileURLToPath(new URL("./sql/", import.meta.url));

const stepsOf = (phase: Phase): readonly string[] => SQL_STEPS.filter((s) => s.phase === phase).map((s) => s.name);

/** Steps before the model scores tonight's features (the model reads mart_customer_churn_features). */
export const FEATURE_MARTS = stepsOf("features");
/** Steps after the model has scored, so the risk-score mart can put its probability beside the health score. */
export const SCORE_MARTS = stepsOf("scores");
/** Every step of the build before the CTAs. */
export const MART_FILES = [...FEATURE_MARTS, ...SCORE_MARTS];
/** The steps that only define macros (what training and scoring of past cutoffs need). */
export const MACRO_FILES = SQL_STEPS.filter((s) => s.phase === "features" && s.creates === "macros").map((s) => s.name);

export function martSql(name: string): string {
  return readFileSync(`${SQL_DIR}${name}.sql`, "utf8");
}

/**
 * The raw data's words and their meanings (src/rules/vocabulary.ts) as cfg.vocabulary, which
 * loaders/sql/int_vocabulary.sql reads. Written with the raw tables — by ingest (the mapping's
 * vocabulary) and by the synthetic generator (the demo's) — so it travels with the data.
 */
export async function writeVocabulary(conn: DuckDBConnection, v: Vocabulary): Promise<void> {
  await writeTable(
    conn,
    "cfg.vocabulary",
    {kind: "VARCHAR", value: "VARCHAR", meaning: "VARCHAR", rank: "INTEGER", arr_ceiling: "DOUBLE"},
    vocabularyRows(v).map((r) => [r.kind, r.value, r.meaning, r.rank, r.arr_ceiling]),
  );
}

/**
 * Puts the business rules into the database so SQL reads the same numbers as the pages and the
 * server. `rules` lets tests try variants of the playbooks.
 */
export async function loadRules(
  conn: DuckDBConnection,
  asOf: string,
  rules: Playbooks = defaultPlaybooks,
  health: HealthScore = loadHealthScore(),
): Promise<void> {
  await conn.run("CREATE SCHEMA IF NOT EXISTS cfg; CREATE SCHEMA IF NOT EXISTS marts");
  // raw tables loaded without a vocabulary (a test's hand-made rows) use the demo's words
  if (
    !(
      await one<{n: number}>(
        conn,
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'cfg' AND table_name = 'vocabulary'",
      )
    ).n
  )
    await writeVocabulary(conn, config.vocabulary);
  const h = health;
  await writeTable(
    conn,
    "cfg.health_components",
    {
      component_id: "VARCHAR",
      label: "VARCHAR",
      feature: "VARCHAR",
      weight: "DOUBLE",
      worst: "DOUBLE",
      best: "DOUBLE",
      when_missing: "DOUBLE",
      needs: "VARCHAR",
    },
    h.components.map((c) => [c.id, c.label, c.feature, c.weight, c.worst, c.best, c.whenMissing, c.needs]),
  );
  // a segment's own weights (src/rules/health-score.json); other segments score with the global ones
  await writeTable(
    conn,
    "cfg.health_segment_weights",
    {segment: "VARCHAR", component_id: "VARCHAR", weight: "DOUBLE", churned: "INTEGER"},
    Object.entries(h.segments).flatMap(([seg, s]) =>
      Object.entries(s.weights).map(([id, weight]) => [seg, id, weight, s.churned]),
    ),
  );
  // every segment the tuner saw, with its history and whether that was enough for its own weights
  await writeTable(
    conn,
    "cfg.health_segments",
    {segment_by: "VARCHAR", segment: "VARCHAR", churned: "INTEGER", own_weights: "BOOLEAN", min_churned: "INTEGER"},
    [
      ...Object.entries(h.segments).map(([seg, s]) => [h.segmentBy, seg, s.churned, true, h.minSegmentChurned]),
      ...Object.entries(h.segmentsOnGlobal).map(([seg, s]) => [
        h.segmentBy,
        seg,
        s.churned,
        false,
        h.minSegmentChurned,
      ]),
    ],
  );
  await writeTable(
    conn,
    "cfg.risk_tiers",
    {
      tier: "VARCHAR",
      min_score: "DOUBLE",
      colour: "VARCHAR",
      recommended_action: "VARCHAR",
      act_within_hours: "INTEGER",
    },
    config.riskTiers.map((t) => [t.tier, t.minScore, t.colour, t.recommendedAction, t.actWithinHours ?? null]),
  );
  await writeTable(
    conn,
    "cfg.model_tiers",
    {tier: "VARCHAR", min_probability: "DOUBLE"},
    config.modelTiers.map((t) => [t.tier, t.minProbability]),
  );
  await writeTable(
    conn,
    "cfg.expansion_inputs",
    {feature: "VARCHAR", weight: "DOUBLE", cap: "DOUBLE", needs: "VARCHAR"},
    config.expansion.inputs.map((e) => [e.feature, e.weight, e.cap, e.needs]),
  );
  // what a reader calls each feature (src/rules/labels.ts), for text written in SQL (CTA details)
  await writeTable(
    conn,
    "cfg.feature_labels",
    {feature: "VARCHAR", label: "VARCHAR"},
    Object.entries(FEATURE_LABELS).map(([feature, l]) => [feature, l.label]),
  );

  // CTA priorities share the risk tiers' act-within windows: a critical CTA is due in 48 h, and so on
  const dueHours = (pr: Priority) =>
    config.riskTiers.find((t) => t.tier === priorityLabel(pr))?.actWithinHours ?? rules.ctas.lowPriorityDueDays * 24;
  await writeTable(
    conn,
    "cfg.priorities",
    {priority: "VARCHAR", priority_rank: "INTEGER", tier: "VARCHAR", due_hours: "INTEGER"},
    PRIORITIES.map((pr, i) => [pr, i + 1, priorityLabel(pr), dueHours(pr)]),
  );
  // holdout_share: the share of a playbook's new CTAs held out to measure it (mart_cta_history draws them)
  const share = (id: string) => holdoutShareOf(rules.measurement, id);
  await writeTable(conn, "cfg.playbooks", {playbook_id: "VARCHAR", playbook: "VARCHAR", holdout_share: "DOUBLE"}, [
    ...rules.riskPlaybooks.map((r) => [r.id, r.name, share(r.id)]),
    [rules.onboarding.id, rules.onboarding.name, share(rules.onboarding.id)],
    [rules.renewal.id, rules.renewal.name, share(rules.renewal.id)],
  ]);
  await writeTable(
    conn,
    "cfg.playbook_steps",
    {
      playbook_id: "VARCHAR",
      step_id: "VARCHAR",
      step_no: "INTEGER",
      title: "VARCHAR",
      start_day: "INTEGER",
      end_day: "INTEGER",
    },
    [
      ...rules.riskPlaybooks.flatMap((r) => r.steps.map((s, i) => [r.id, s.id, i + 1, s.title, s.startDay, s.endDay])),
      ...rules.onboarding.phases.map((ph, i) => [
        rules.onboarding.id,
        ph.id,
        i + 1,
        `Phase ${i + 1}: ${ph.name}`,
        ph.startDay,
        ph.endDay,
      ]),
      ...rules.renewal.stages.map((s, i) => [rules.renewal.id, s.id, i + 1, s.name, null, null]),
    ],
  );
  await writeTable(
    conn,
    "cfg.cta_rules",
    {
      cta_type: "VARCHAR",
      reason: "VARCHAR",
      reason_label: "VARCHAR",
      playbook_id: "VARCHAR",
      step_id: "VARCHAR",
      min_priority: "VARCHAR",
    },
    rules.ctaRules.map((r) => [r.type, r.reason, r.label, r.playbook, r.stepId, r.minPriority]),
  );
  await writeTable(
    conn,
    "cfg.escalation_matrix",
    {
      matrix_row: "INTEGER",
      trigger_id: "VARCHAR",
      trigger: "VARCHAR",
      level: "VARCHAR",
      response_hours: "INTEGER",
      urgency: "VARCHAR",
      detectable: "BOOLEAN",
      brief: "VARCHAR",
      recommended_action: "VARCHAR",
    },
    rules.escalationMatrix.map((e, i) => [
      i + 1,
      e.id,
      e.trigger,
      e.level,
      e.responseHours,
      e.urgency,
      e.detectedBy !== null,
      e.brief,
      e.recommendedAction,
    ]),
  );

  await writeCapacityRules(conn);

  const q = config.quadrant;
  const a = rules.alerting;
  await setVariables(conn, {
    as_of: {date: asOf},
    at_risk_tiers: config.atRiskTiers,
    engagement_signals: config.engagementSignals,
    health_features: h.components.map((c) => c.feature),
    expansion_features: config.expansion.inputs.map((e) => e.feature),
    low_events_threshold: config.flags.lowEventsThreshold30d,
    support_overload_high_tickets: config.flags.supportOverloadHighTickets,
    onboarding_window_days: config.flags.onboardingWindowDays,
    activation_gate_integrations: config.flags.activationGateIntegrations,
    failed_payments_flag: config.flags.failedPayments90d,
    compliance_gap_flag: config.flags.complianceGapScore,
    vendor_risk_flag: config.flags.vendorRiskFlags,
    health_segment_by: h.segmentBy,
    top_drivers: config.healthScore.topDrivers,
    renewal_stages_days: config.renewalStagesDays,
    q_high_churn: q.highChurn,
    q_low_churn: q.lowChurn,
    q_high_expansion: q.highExpansion,
    q_low_expansion: q.lowExpansion,
    q_label_flight_risk: q.labels.flightRisk,
    q_label_growth_engine: q.labels.growthEngine,
    q_label_churn_candidate: q.labels.churnCandidate,
    q_label_stable_base: q.labels.stableBase,
    contacted_within_days: q.contactedWithinDays,
    expected_uplift_share: config.expansion.expectedUpliftShare,
    post_renewal_days: rules.renewal.postRenewalDays,
    alert_tiers: a.alertTiers,
    health_drop_points: a.healthDropPoints,
    renewal_at_risk_days: a.renewalAtRiskDays,
    critical_bug_categories: a.criticalBug.categories,
    critical_bug_priorities: a.criticalBug.priorities,
    escalation_subject: rules.escalationTemplate.subject,
    escalation_body: rules.escalationTemplate.body,
    // measured effectiveness (mart_playbook_effectiveness): outcomes over the labels' churn horizon
    churn_horizon_days: config.dataQuality.churnHorizonDays,
    cta_report_window_days: config.ctaWork.reportWindowDays,
    effect_min_per_arm: rules.measurement.minPerArm,
    effect_interval_level: rules.measurement.intervalLevel,
    effect_z: normalQuantile(0.5 + rules.measurement.intervalLevel / 2),
  });
  // the meanings of the raw data's words, which every step reads them by
  await runSteps(conn, ["int_vocabulary"]);
}

/**
 * config.capacity as the cfg tables loaders/sql/mart_csm_worklist.sql reads: each CTA playbook's
 * effort and default effectiveness (config.uplift.effectiveness, used until a playbook's measured
 * effectiveness has enough data), the per-CSM weekly hours, and the week's rules (one row).
 * Tests pass variants; a variant that config validation rejects is refused here too.
 */
export async function writeCapacityRules(conn: DuckDBConnection, cap: CapacityRules = config.capacity): Promise<void> {
  const problems = validateCapacity(cap, defaultPlaybooks.ctaRules);
  if (problems.length) throw new Error(`config.capacity is invalid:\n  ${problems.join("\n  ")}`);
  await writeTable(
    conn,
    "cfg.playbook_capacity",
    {playbook_id: "VARCHAR", effort_hours: "DOUBLE", default_effectiveness: "DOUBLE"},
    Object.entries(cap.effortHoursByPlaybook).map(([id, h]) => [id, h, config.uplift.effectiveness]),
  );
  await writeTable(
    conn,
    "cfg.csm_capacity",
    {csm: "VARCHAR", hours_per_week: "DOUBLE"},
    Object.entries(cap.perCsm).map(([csm, h]) => [csm, h]),
  );
  await writeTable(
    conn,
    "cfg.capacity",
    {default_hours_per_week: "DOUBLE", digest_beyond_weeks: "INTEGER", digest_below_value_per_hour: "DOUBLE"},
    [[cap.defaultHoursPerWeek, cap.digestBeyondWeeks, cap.digestBelowValuePerHour]],
  );
}

export interface MartTiming {
  table: string;
  rows: number | null;
  seconds: number;
}

/**
 * Runs SQL steps (a phase, or steps by name) in order on a connection whose rules are loaded;
 * returns per-step timings and row counts. A failing file is named in the error.
 */
export async function runSteps(
  conn: DuckDBConnection,
  steps: Phase | readonly string[],
  progress?: (msg: string) => void,
  /** perPart: the parts of every partitioned step run here hold at most this many (tests) */
  options: {perPart?: number; reuse?: StepReuse} = {},
): Promise<MartTiming[]> {
  const names = typeof steps === "string" ? stepsOf(steps) : steps;
  const timings: MartTiming[] = [];
  for (const name of names) {
    const step: SqlStep | undefined = SQL_STEPS.find((s) => s.name === name);
    if (!step) throw new Error(`loaders/sql/${name}.sql is not a step of loaders/sql/steps.ts`);
    const t0 = performance.now();
    let reused: string | null = null;
    try {
      await options.reuse?.before(conn, name);
      const sql = martSql(name);
      if (!step.partitioned) await conn.run(sql);
      else {
        const {count, perPart} = step.partitioned;
        const n = (await one<{n: number}>(conn, `SELECT ${count} AS n`)).n;
        const per =
          options.perPart ??
          (typeof perPart === "number" ? perPart : (await one<{n: number}>(conn, `SELECT ${perPart} AS n`)).n);
        const parts = Math.max(1, Math.ceil(n / per));
        const create = `CREATE OR REPLACE TABLE marts.${name} AS`;
        if (!sql.includes(create)) throw new Error(`a partitioned step must create its table with "${create}"`);
        for (let part = 0; part < parts; part++) {
          await conn.run(`SET VARIABLE part = ${part}; SET VARIABLE parts = ${parts}`);
          await conn.run(part === 0 ? sql : sql.replace(create, `INSERT INTO marts.${name}`));
        }
      }
      reused = (await options.reuse?.after(conn, name)) ?? null;
    } catch (e) {
      throw new Error(`loaders/sql/${name}.sql failed: ${(e as Error).message}`);
    }
    const rows =
      step.creates === "table" ? (await one<{n: number}>(conn, `SELECT count(*) AS n FROM marts.${name}`)).n : null;
    const seconds = (performance.now() - t0) / 1000;
    timings.push({table: name, rows, seconds});
    progress?.(
      `marts.${name}: ${rows === null ? step.creates : `${rows.toLocaleString("en-US")} rows`} (${seconds.toFixed(2)} s${reused ? `; ${reused}` : ""})`,
    );
  }
  return timings;
}

/** Loads the rules, then runs the steps (every step before the CTAs by default). */
export async function buildMarts(
  conn: DuckDBConnection,
  asOf: string,
  progress?: (msg: string) => void,
  steps: Phase | readonly string[] = MART_FILES,
  reuse?: StepReuse,
): Promise<MartTiming[]> {
  await loadRules(conn, asOf);
  return runSteps(conn, steps, progress, {reuse});
}
