/**
 * The generator's latent model: every number that shapes the synthetic portfolio, the monthly
 * health dynamics, the churn hazards, and the exact 90-day churn probability ("truth").
 *
 * Latent state per account:
 *  - z (monthly account health): AR(1) around a personal mean mu,
 *      z_k = mu + PHI·(z_{k−1} − mu) + OUTREACH_BOOST·atRisk(z_{k−1}) + SIGMA·ε_k,  ε_k ~ N(0,1)
 *    where atRisk() is the CS team's at-risk outreach intensity (more touches, small health boost).
 *  - e (expansion appetite): static N(0,1); drives premium trials, limit hits, feature requests,
 *    expansion opportunities and upgrades, and slightly lowers churn.
 *  - act (activation): new accounts with ≥ 3 integration connects in their first 30 days.
 * Every observable table is a noisy read-out of z (usage, tickets, CSAT, NPS, payments, seats,
 * outreach) or of e; the unexplainable randomness lives in ε and in the churn draw itself.
 *
 * Churn: Starter may cancel at the end of any contract month (monthly hazard); Growth and
 * Enterprise decide only at their annual term end. All contract terms start on the 1st of a month,
 * so every churn date is a month end.
 */
import type {PlanTier} from "./types.ts";

export const PHI = 0.82;
export const SIGMA = 0.36;
export const OUTREACH_BOOST = 0.12;

export const MU_TIER: Record<PlanTier, number> = {Starter: -0.15, Growth: 0.05, Enterprise: 0.3};
export const MU_INDUSTRY: Record<string, number> = {
  FinTech: 0.05,
  HealthTech: 0.0,
  Retail: -0.2,
  Manufacturing: 0.05,
  Media: -0.15,
  Education: -0.1,
  Logistics: 0.0,
  Software: 0.15,
};
export const MU_SD = 0.55;
export const MU_ACTIVATED = 0.15;
export const MU_NOT_ACTIVATED = -0.1;

/** stationary sd of z around mu (ignoring the small outreach drift) */
export const Z_SD = SIGMA / Math.sqrt(1 - PHI * PHI);

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** CS at-risk outreach intensity in [0,1] from last month's health */
export function atRisk(z: number): number {
  return sigmoid(-2.5 * (z + 0.6));
}

export function nextMean(mu: number, zPrev: number): number {
  return mu + PHI * (zPrev - mu) + OUTREACH_BOOST * atRisk(zPrev);
}

// ---- churn hazards -------------------------------------------------------------------------

export const STARTER_BASE = -4.35;
export const STARTER_Z = 1.25;
export const ANNUAL_BASE: Record<PlanTier, number> = {Starter: -2.6, Growth: -2.0, Enterprise: -2.35};
export const ANNUAL_Z = 1.35;
export const CHURN_E = 0.2;
/** extra logit of a Starter month-end churn inside the first 90 days, without / with activation */
export const ONBOARD_NOT_ACTIVATED = 0.9;
export const ONBOARD_ACTIVATED = 0.25;

// ---- payment and compliance signals (their own random stream: see generate.ts) -------------

/** the latent compliance gap of an account: median ≈ 0.2, a tail above 0.5 */
export const GAP_LOGIT_MEAN = -1.4;
export const GAP_LOGIT_SD = 1.1;
/** churn logit per unit of the latent compliance gap, centred at GAP_CENTRE (truth.signal_effects) */
export const COMPLIANCE_LOGIT = 2.0;
export const GAP_CENTRE = 0.2;
/** share of accounts whose payment method keeps failing (expired cards, tight cash), and their churn logit */
export const FRAGILE_SHARE = 0.08;
export const FRAGILE_LOGIT = 0.4;
/** accounts with strong appetite that let more people in than they license, and by how much */
export const OVER_DEPLOY_FACTOR = 1.3;

/** The extra churn logit of the signals, centred so the portfolio's churn rate stays where it was. */
export function signalLogit(gap: number, fragile: boolean): number {
  return COMPLIANCE_LOGIT * (gap - GAP_CENTRE) + (fragile ? FRAGILE_LOGIT : 0) - FRAGILE_LOGIT * FRAGILE_SHARE;
}

/** P(one charge attempt fails): low health and a fragile payment method both fail more */
export function paymentFailure(z: number, fragile: boolean): number {
  return sigmoid(-3.4 - 0.6 * z + (fragile ? 2.6 : 0));
}

/** P(Starter cancels at the end of a contract month); `extra` is the signals' churn logit */
export function starterHazard(z: number, e: number, onboarding: boolean, act: boolean, extra = 0): number {
  let x = STARTER_BASE - STARTER_Z * z - CHURN_E * e + extra;
  if (onboarding) x += act ? ONBOARD_ACTIVATED : ONBOARD_NOT_ACTIVATED;
  return sigmoid(x);
}

/** P(Growth/Enterprise does not renew at the annual term end) */
export function renewalChurn(tier: PlanTier, z: number, e: number, extra = 0): number {
  return sigmoid(ANNUAL_BASE[tier] - ANNUAL_Z * z - CHURN_E * e + extra);
}

/** P(Starter self-serve upgrades to Growth at a month end it survived) */
export function starterUpgrade(z: number, e: number): number {
  return sigmoid(-5.6 + 1.4 * e + 0.4 * z);
}

export function growthUpgradeAtRenewal(z: number, e: number): number {
  return sigmoid(-3.0 + 1.2 * e + 0.4 * z);
}

export function enterpriseDowngradeAtRenewal(z: number): number {
  return sigmoid(-3.6 - 1.2 * z);
}

// ---- exact 90-day churn probability --------------------------------------------------------

/** Gauss–Hermite (probabilists') nodes and normalised weights for E[f(ε)], ε ~ N(0,1). */
const GH_X = [-2.8569700138728056, -1.3556261799742659, 0, 1.3556261799742659, 2.8569700138728056];
const GH_W = [0.011257411327720691, 0.22207592200561266, 0.5333333333333333, 0.22207592200561266, 0.011257411327720691];

/** What the truth calculation needs to know about one account at one cutoff. */
export interface TruthState {
  tier: PlanTier;
  mu: number;
  e: number;
  act: boolean;
  signup: number;
  /** the month index whose health is known at the cutoff, and that health */
  knownMonth: number;
  zKnown: number;
  /** current term end (annual tiers: the renewal decision date) */
  termEnd: number;
  /** Starter: first month index whose month end is a cancellation opportunity */
  firstEligibleMonth: number;
  /** the payment and compliance signals' churn logit (signalLogit) */
  extra: number;
  /**
   * the extra churn logit on a decision day, when it changes over time: the signals plus the CS
   * plays worked in the weeks before (cta-loop.ts); without it, `extra` every day
   */
  extraOn?: (day: number) => number;
}

function extraOn(s: TruthState, day: number): number {
  return s.extraOn ? s.extraOn(day) : s.extra;
}

/** E[renewalChurn(z_jr)] over the health path from month j (health z) to the renewal month jr. */
function annualRec(s: TruthState, j: number, jr: number, z: number): number {
  if (j === jr) return renewalChurn(s.tier, z, s.e, extraOn(s, s.termEnd));
  const m = nextMean(s.mu, z);
  let acc = 0;
  for (let n = 0; n < 5; n++) acc += GH_W[n]! * annualRec(s, j + 1, jr, m + SIGMA * GH_X[n]!);
  return acc;
}

/**
 * Starter survival over the cancellation chances from month j onward, given z_j. `ends[j − j0]`
 * is month j's end; `eligible[j − j0]` whether that month end is a chance inside the window.
 */
function starterSurv(
  s: TruthState,
  j: number,
  j0: number,
  last: number,
  z: number,
  ends: number[],
  eligible: boolean[],
  horizon: number,
): number {
  let rest = 1;
  if (j < last) {
    const m = nextMean(s.mu, z);
    rest = 0;
    for (let n = 0; n < 5; n++)
      rest += GH_W[n]! * starterSurv(s, j + 1, j0, last, m + SIGMA * GH_X[n]!, ends, eligible, horizon);
  }
  if (!eligible[j - j0]) return rest;
  const h = starterHazard(z, s.e, ends[j - j0]! - s.signup <= horizon, s.act, extraOn(s, ends[j - j0]!));
  if (j === last) return 1 - h;
  const u = starterUpgrade(z, s.e);
  return (1 - h) * (u + (1 - u) * rest);
}

/**
 * P(churn_date ∈ (cutoff, cutoff + window]) given the latent state at the cutoff, integrating
 * the future AR(1) innovations with 5-point Gauss–Hermite quadrature per future month (exact up
 * to quadrature error; the hazards are smooth in z). Never looks at realised future draws.
 * `horizon` is the generator's early-life span (a new account's hazard); the window is 90 days
 * unless told (the forecast's truth asks for a calendar quarter).
 */
export function churnProbability90(
  s: TruthState,
  cutoff: number,
  horizon: number,
  monthEnd: (k: number) => number,
  monthOf: (day: number) => number,
  window = horizon,
): number {
  const hi = cutoff + window;
  if (s.tier !== "Starter") {
    if (!(s.termEnd > cutoff && s.termEnd <= hi)) return 0;
    return annualRec(s, s.knownMonth, monthOf(s.termEnd), s.zKnown);
  }
  // Starter: month ends in the window are cancellation chances; a survived month end may upgrade
  // the account to Growth (annual term: no further churn chance inside the window).
  let last = s.knownMonth;
  while (monthEnd(last + 1) <= hi) last++;
  const ends: number[] = [];
  const eligible: boolean[] = [];
  for (let j = s.knownMonth; j <= last; j++) {
    const me = monthEnd(j);
    ends.push(me);
    eligible.push(me > cutoff && me <= hi && j >= s.firstEligibleMonth);
  }
  return 1 - starterSurv(s, s.knownMonth, s.knownMonth, last, s.zKnown, ends, eligible, horizon);
}
