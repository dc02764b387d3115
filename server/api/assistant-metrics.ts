/**
 * The assistant's quality in /metrics: accuracy (the share of CSM ratings that say "accurate")
 * and the guardrail pass share, per generator and audience over the last
 * config.assistant.windowDays days, beside their targets.
 *
 * Computed from the operational store at each scrape rather than kept up to date on each write:
 * several API instances share one PostgreSQL store, and summaries are recorded by other routes
 * (and survive restarts), so only the store knows the whole figure. The read is two grouped
 * queries over the window through the summary_log created_at index — small next to a scrape
 * every 15–60 s.
 */
import {config} from "../../src/rules/config.ts";
import {SUMMARY_AUDIENCES, SUMMARY_GENERATORS, type OperationalStore} from "../../loaders/store/types.ts";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./prometheus.ts";

const DAY_MS = 86_400_000;

/** Reads the window's figures into the assistant_* gauges. */
export async function refreshAssistantMetrics(
  metrics: ApiMetrics,
  store: OperationalStore,
  log: Logger,
  now: Date = new Date(),
): Promise<void> {
  const {accuracyTarget, guardrailPassTarget, windowDays} = config.assistant;
  metrics.assistantAccuracyTarget.set({}, accuracyTarget);
  metrics.assistantGuardrailPassTarget.set({}, guardrailPassTarget);
  metrics.assistantWindowDays.set({}, windowDays);
  const gauges = [
    metrics.assistantSummaries,
    metrics.assistantGuardrailPass,
    metrics.assistantRatings,
    metrics.assistantAccuracy,
  ];
  let rows;
  try {
    rows = await store.assistantQuality({since: new Date(now.getTime() - windowDays * DAY_MS).toISOString()});
  } catch (e) {
    // the rest of /metrics still answers; stale figures would read as current, so none are shown
    for (const g of gauges) g.clear();
    metrics.assistantQualityUp.set({}, 0);
    log.warn("assistant quality metrics: the operational store could not be read", {error: (e as Error).message});
    return;
  }
  for (const g of gauges) g.clear();
  // every generator × audience, so a dashboard's series exist (at 0) before the first summary
  for (const generator of SUMMARY_GENERATORS)
    for (const audience of SUMMARY_AUDIENCES) {
      const mine = rows.filter((r) => r.generator === generator && r.audience === audience);
      const sum = (k: "made" | "guardrail_passed" | "rated" | "accurate") => mine.reduce((s, r) => s + r[k], 0);
      const labels = {generator, audience};
      const [made, passed, rated, accurate] = [sum("made"), sum("guardrail_passed"), sum("rated"), sum("accurate")];
      metrics.assistantSummaries.set(labels, made);
      metrics.assistantRatings.set({...labels, verdict: "accurate"}, accurate);
      metrics.assistantRatings.set({...labels, verdict: "inaccurate"}, rated - accurate);
      // a ratio of nothing is no figure: absent, not 0 (which would read as "all wrong")
      if (made > 0) metrics.assistantGuardrailPass.set(labels, passed / made);
      if (rated > 0) metrics.assistantAccuracy.set(labels, accurate / rated);
    }
  metrics.assistantQualityUp.set({}, 1);
}

/** Registers the refresh to run before each GET /metrics renders. */
export function collectAssistantMetrics(metrics: ApiMetrics, store: OperationalStore, log: Logger): void {
  metrics.registry.collector("assistant_quality", () => refreshAssistantMetrics(metrics, store, log));
}
