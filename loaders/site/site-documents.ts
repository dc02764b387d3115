/**
 * The site's published files that are not tables: one line each on what is in them, for the data
 * dictionary page (loaders/site/data-dictionary.ts). Keyed by the file a loader in `src/data/`
 * publishes (`exec_summary.json.ts` → `exec_summary.json`). The dictionary is built from the files
 * in `src/data/`, and fails when one of them is neither a table (SITE_TABLES) nor described here —
 * so a new loader cannot reach the site undocumented.
 *
 * These files are shaped for one page each and named columns only (no PII); reports should read
 * the tables (SITE_TABLES), which DuckDB in the browser can query.
 */
export const SITE_DOCUMENTS: Readonly<Record<string, string>> = {
  "build_info.json": "When and from what the data was built: as-of date, build time, source and active customers.",
  "c360.tar":
    "Customer 360 dossiers — profile, health components, 90-day usage, open tickets and opportunities, CTAs, model drivers and score history — in shards (c360/00.json …) plus the picker's index (c360/index.json).",
  "churn_model.onnx": "The churn model itself, which the Customer 360 what-if panel runs in the browser.",
  "data_dictionary.json":
    "This dictionary: every published table, its columns and their meanings, the pages using it and its freshness.",
  "exec_summary.json":
    "Every figure of the Executive overview: KPIs, tier and plan mix, monthly churn, the top accounts, and the previous build's figures for the change since.",
  "forecast.json":
    "The retention forecast: GRR and NRR for the four quarters from the current one with 50/80/90% intervals, for the portfolio and by plan tier, industry, company size and CSM; renewals due; the accounts that move it most; the CSMs' calls on renewals beside the model's view and where they disagree; how right past forecasts were (closed quarters against what happened and a naive last-year forecast, with interval coverage and error by group); and the churn horizon model's back-test.",
  "model_card.json": "The churn model's card: version, training date and its features with their encodings.",
  "model_quality.json":
    "Back-test of the churn model and the health score: calibration and lift by decile, metrics per cutoff, drift, health weights, tier stability and the assistant's accuracy.",
  "plan_tiers.json":
    "The plan tiers of the active accounts, highest first: the order of every plan filter, axis and legend.",
  "playbooks.json": "The playbooks as configured: the plays per risk tier and the renewal stages.",
  "portfolio_brief.json":
    "The executive brief: tonight's summary since the previous build and since the last weekly digest, the accounts it names, and the digests sent.",
  "risk_signals.json":
    "The three risk findings measured on history (usage decay, support overload, activation gate): churn rates per bucket.",
  "score_disagreements.json":
    "Accounts where the health score and the churn model disagree tonight (the watermelon report), and which view was right in the back-test.",
  "segments.json":
    "Plan tier × industry risk concentration, tier mix and score distributions, pre-aggregated for the Churn Heatmap.",
  "site_settings.json": "Where the pages may send requests: the API origins fixed when the site was built.",
};
