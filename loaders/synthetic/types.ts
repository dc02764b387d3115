import type {PLAN_TIERS} from "../contract.ts";

export type PlanTier = (typeof PLAN_TIERS)[number];
