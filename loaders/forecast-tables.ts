/**
 * The names and shape of the churn horizon model's and the retention forecast's tables, apart from
 * the code that writes them, so the API server can read them without loading any training code
 * (tests/model/gbt-parts.test.ts holds it to that).
 */
export const HORIZON_MONTHLY = "marts.mart_churn_horizon_months";
export const HORIZONS = "marts.mart_churn_horizons";
export const HORIZON_BACKTEST = "marts.horizon_backtest";
/** The back-test's 3-month churn by cutoff × plan tier × industry: expected, its variance, observed. */
export const HORIZON_BACKTEST_CELLS = `${HORIZON_BACKTEST}_cells`;
/** Quarters of the outlook: the current calendar quarter (what is left of it) and the next three. */
export const OUTLOOK_QUARTERS = 4;

export const FORECAST = "marts.mart_renewal_forecast";
export const FORECAST_MOVERS = "marts.mart_forecast_movers";
export const FORECAST_QUARTERS = "marts.forecast_quarters";
/** Every night's forecast, carried from build to build: what was forecast, and when. */
export const FORECAST_HISTORY = "marts.forecast_history";
/**
 * The record of past quarters (loaders/forecast-record.ts): each quarter-start forecast's cells
 * set against what happened and against a naive forecast, and their summary.
 */
export const FORECAST_ACCURACY = "marts.forecast_accuracy";
export const FORECAST_ACCURACY_SUMMARY = "marts.forecast_accuracy_summary";
/** The groups the forecast is cut by, beside the whole portfolio. */
export const FORECAST_GROUPS = ["plan_tier", "industry", "company_size", "csm_owner"] as const;
/** The group of an account without a value: the forecast's and its record's */
export const GROUP_UNKNOWN: Record<(typeof FORECAST_GROUPS)[number], string> = {
  plan_tier: "(none)",
  industry: "(none)",
  company_size: "(none)",
  csm_owner: "(unassigned)",
};
/** The intervals' quantiles: 90% (5–95), 80% (10–90), 50% (25–75), and the median. */
export const FORECAST_QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] as const;
/** Days a year's rates are spread over (a tier's expansion and contraction, the naive forecast's retention). */
export const DAYS_PER_YEAR = 365;
/** Accounts named per quarter as moving the forecast most. */
export const MOVERS_PER_QUARTER = 25;
