/** the demo portfolio's plan tiers (the default vocabulary) */
export type PlanTier = "Starter" | "Growth" | "Enterprise";
