/**
 * Every published table (SITE_TABLES in loaders/site/site-tables.ts) as a file the browser can
 * load, for pages that pick tables at run time (the data dictionary's query console). Framework
 * finds files by their literal names, so the list is written out; a test checks it against
 * SITE_TABLES. Nothing is downloaded until a table is loaded.
 */
import {FileAttachment, type AbstractFile} from "observablehq:stdlib";

export const SITE_TABLE_FILES: Readonly<Record<string, AbstractFile>> = {
  risk_scores: FileAttachment("../data/risk_scores.arrow"),
  quadrant: FileAttachment("../data/quadrant.arrow"),
  cta_queue: FileAttachment("../data/cta_queue.arrow"),
  csm_worklist: FileAttachment("../data/csm_worklist.arrow"),
  csm_capacity: FileAttachment("../data/csm_capacity.arrow"),
  cta_performance: FileAttachment("../data/cta_performance.arrow"),
  playbook_effectiveness: FileAttachment("../data/playbook_effectiveness.arrow"),
  cohort_retention: FileAttachment("../data/cohort_retention.arrow"),
  churn_events: FileAttachment("../data/churn_events.arrow"),
};
