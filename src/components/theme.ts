/**
 * Colours of the dashboards. Risk tiers use the Okabe–Ito palette, which stays distinguishable
 * for the common forms of colour blindness; the order runs warm (Critical) to cool (Low). Tiers
 * are never shown by colour alone: labels, legends and tooltips always name them too.
 */
import {RISK_TIERS, type RiskTier} from "../rules/config.js";

export const TIER_COLOURS: Record<RiskTier, string> = {
  Critical: "#d55e00", // vermillion
  High: "#e69f00", // orange
  Medium: "#56b4e9", // sky blue
  Low: "#0072b2", // blue
};

/** Plot colour scale options for a `risk_tier` channel (fixed order, fixed colours, legend-ready). */
export const tierColorScale = {
  domain: [...RISK_TIERS],
  range: RISK_TIERS.map((t) => TIER_COLOURS[t]),
} as const;

/** Okabe–Ito colours for the four propensity quadrants. */
export const QUADRANT_COLOURS: Record<string, string> = {
  "Flight Risk": "#d55e00",
  "Churn Candidate": "#cc79a7", // reddish purple
  "Growth Engine": "#009e73", // bluish green
  "Stable Base": "#999999",
};

/** Neutral ink and accent shades used by charts. */
export const INK = "#1b2430";
export const MUTED = "#5b6573";
export const ACCENT = "#0b5cad";
export const GOOD = "#009e73";
export const BAD = "#d55e00";

/** Sequential scheme for heatmaps (light → dark, perceptually ordered, colour-blind safe). */
export const HEAT_SCHEME = "YlOrRd";

/** Default Plot style: system font, readable on a projector. */
export const PLOT_STYLE = {fontSize: "12px", fontFamily: "var(--sans-serif)", overflow: "visible"} as const;

/**
 * Narrowest width a chart is drawn at. Framework's resize() can report 0 before layout; a chart
 * narrower than its margins would draw negative sizes.
 */
export const MIN_WIDTH = 320;
