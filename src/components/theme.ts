/**
 * Colours of the dashboards. Risk tiers use the Okabe–Ito palette, which stays distinguishable
 * for the common forms of colour blindness; the order runs warm (Critical) to cool (Low).
 */
import { RISK_TIERS, type RiskTier } from "./config.js";

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
