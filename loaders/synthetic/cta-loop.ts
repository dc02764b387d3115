/**
 * A CS team that ran SaaSGuard's loop for the year before the as-of date: the demo's matured CTA
 * history (raw.cta_history) and the truth to check measured playbook effectiveness against.
 *
 * Every week the team reviews its accounts. An account whose true 90-day churn probability is in
 * a risk band of config.modelTiers gets a CTA of that tier's risk playbook (risk_tier_critical →
 * critical_risk, risk_tier_high → high_risk); one whose latent health says usage has dried up
 * gets the low-engagement play (low_events → medium_risk) — by the CTA rules of playbooks.ts.
 * Each new CTA is held out with its playbook's configured share (permuted blocks within playbook
 * × play tier × plan tier); a CSM works the others with a fixed chance per playbook, acting a few
 * days after the raise. A worked CTA adds its playbook's TRUE_EFFECT to the account's churn logit
 * from the first action for the churn horizon, through the `extra` logit the hazards take
 * (latent-health.ts). Working, holdouts and action days come from this module's own random
 * streams, so every other table keeps its draws; only churn moves, by the plays' effect.
 *
 * The team runs one play per account at a time, the most urgent that fires: a CTA stays open
 * while its trigger fires, at most MAX_OPEN_DAYS, and the account's next CTA waits until the
 * last one's horizon after its first action has passed. So no churn decision feels two plays, and
 * each CTA's outcome answers for its own play alone: were plays to overlap, a later play — raised
 * because the account got worse — would act exactly where churn happens, and no per-CTA truth
 * could say what the measurement sees. The risk the team reacts to is the untreated probability:
 * plays change churn, not the health SaaSGuard observes, so whether a CTA is raised never
 * depends on how earlier ones were treated.
 *
 * Truth (read by tests and the bench only): truth.playbook_effects, and truth.cta_effects with each
 * written CTA's probability of churning within the horizon after its raise if worked and if not
 * (churnProbability90 with the account's plays as they happened, this one's switched on or off).
 */
import {createHash} from "node:crypto";
import type {DuckDBConnection} from "@duckdb/node-api";
import {config, tierOfProbability, type RiskTier} from "../../src/rules/config.ts";
import {
  ctaRules,
  holdoutShareOf,
  playbooks,
  PRIORITIES,
  priorityOfTier,
  type CtaRule,
} from "../../src/rules/playbooks.ts";
import {CONTRACT} from "../contract.ts";
import {writeTable} from "../duckdb.ts";
import {ChunkWriter} from "./append.ts";
import type {MonthGrid} from "./calendar.ts";
import {churnProbability90, type TruthState} from "./latent-health.ts";
import {Rng} from "./rng.ts";
import type {PlanTier} from "./types.ts";

/** the simulated team's history: the weekly reviews of the last 52 weeks before the as-of date */
export const REVIEW_WEEKS = 52;
/** the true churn-logit effect of working a CTA of each playbook, for the churn horizon after its first action */
export const TRUE_EFFECT = {critical_risk: -0.45, high_risk: -0.4, medium_risk: -0.3} as const;
type SimPlaybook = keyof typeof TRUE_EFFECT;
/** the chance a CSM works a CTA that is not held out: the most urgent plays first */
export const WORK_PROBABILITY: Record<SimPlaybook, number> = {critical_risk: 0.7, high_risk: 0.5, medium_risk: 0.35};
/** days from the raise to the first action of a worked CTA */
const ACTION_DELAY_DAYS: readonly [number, number] = [1, 6];
/** latent health below which an account's usage has dried up (the low_events trigger) */
export const LOW_ENGAGEMENT_Z = -1.0;
/** the random streams of the loop, apart from the accounts' own and the signals' (generate.ts) */
const CTA_STREAM = 1 << 29;

const HORIZON = config.dataQuality.churnHorizonDays;
const REASON_OF_TIER: Partial<Record<RiskTier, string>> = {Critical: "risk_tier_critical", High: "risk_tier_high"};
const LOW_ENGAGEMENT = "low_events";
const ruleOf = (reason: string): CtaRule => {
  const r = ctaRules.find((x) => x.reason === reason);
  if (!r) throw new Error(`cta-loop: no CTA rule for reason "${reason}" in src/rules/playbooks.ts`);
  return r;
};
/**
 * A CTA stays open while its trigger fires, for at most the churn horizon in whole weeks: its
 * outcome is judged over that horizon. So every CTA whose horizon has matured is closed by the
 * as-of date and in the history.
 */
const MAX_OPEN_DAYS = 7 * Math.floor((HORIZON - 1) / 7);

/** What churnProbability90 needs of an account that stays the same month to month. */
export type AccountState = Omit<TruthState, "tier" | "termEnd" | "knownMonth" | "zKnown" | "extraOn">;

interface SimCta {
  id: string;
  reason: string;
  rule: CtaRule;
  playbook: SimPlaybook;
  playTier: RiskTier;
  segment: PlanTier;
  created: number;
  closed: number | null;
  holdout: boolean;
  worked: boolean;
  /** the first action's day: drawn for every CTA, so a held-out one has its "if worked" too */
  action: number;
  state: TruthState;
}

/** Opened once per generated portfolio; `account()` follows one customer through its months. */
export class CtaLoop {
  private readonly strataRng: Rng;
  /** per stratum: CTAs and holdouts left in its current permuted block */
  private readonly blocks = new Map<string, {left: number; hold: number}>();

  private constructor(
    private readonly seed: number,
    private readonly grid: MonthGrid,
    private readonly history: ChunkWriter,
    private readonly truth: ChunkWriter,
  ) {
    this.strataRng = new Rng(seed, CTA_STREAM);
  }

  /** Writes truth.playbook_effects and opens the writers of raw.cta_history and truth.cta_effects. */
  static async open(conn: DuckDBConnection, seed: number, grid: MonthGrid): Promise<CtaLoop> {
    await writeTable(
      conn,
      "truth.playbook_effects",
      {playbook_id: "VARCHAR", churn_logit: "DOUBLE", work_probability: "DOUBLE", holdout_share: "DOUBLE"},
      Object.entries(TRUE_EFFECT).map(([id, logit]) => [
        id,
        logit,
        WORK_PROBABILITY[id as SimPlaybook],
        holdoutShareOf(playbooks.measurement, id),
      ]),
    );
    await conn.run(
      `CREATE OR REPLACE TABLE truth.cta_effects (cta_id VARCHAR, customer_id VARCHAR, playbook_id VARCHAR, play_tier VARCHAR,
         created_date DATE, holdout BOOLEAN, worked BOOLEAN, p_churn_if_worked DOUBLE, p_churn_if_not_worked DOUBLE)`,
    );
    const types = CONTRACT.find((t) => t.name === "cta_history")!.columns.map((c) => c.type);
    return new CtaLoop(
      seed,
      grid,
      await ChunkWriter.open(conn, "raw", "cta_history", types),
      await ChunkWriter.open(conn, "truth", "cta_effects", [
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "VARCHAR",
        "DATE",
        "BOOLEAN",
        "BOOLEAN",
        "DOUBLE",
        "DOUBLE",
      ]),
    );
  }

  account(i: number, customerId: string, s: AccountState): AccountPlays {
    return new AccountPlays(this, new Rng(this.seed, CTA_STREAM + i), customerId, s);
  }

  /** Whether a new CTA of the stratum is held out: `share` of each block of CTAs, in random places. */
  drawHoldout(stratum: string, share: number): boolean {
    if (share <= 0) return false;
    let b = this.blocks.get(stratum);
    if (!b || b.left === 0) {
      // the smallest block that holds out a whole number of CTAs (10 at a tenth)
      let size = 1;
      while (size < 1000 && Math.abs(share * size - Math.round(share * size)) > 1e-9) size++;
      b = {left: size, hold: Math.round(share * size)};
      this.blocks.set(stratum, b);
    }
    const held = this.strataRng.u() * b.left < b.hold;
    b.left--;
    if (held) b.hold--;
    return held;
  }

  get monthGrid(): MonthGrid {
    return this.grid;
  }

  readonly monthEnd = (k: number): number => this.grid.end(k);
  readonly monthOf = (day: number): number => this.grid.indexOf(day);

  write(customerId: string, c: SimCta, pWorked: number, pNot: number): void {
    const firstAction = c.worked ? Math.min(c.action, c.closed!) : null;
    this.history.push([
      c.id,
      customerId,
      c.rule.type,
      c.reason,
      c.playbook,
      priorityOf(c.rule, c.playTier),
      c.playTier,
      c.segment,
      c.created,
      c.closed,
      c.worked ? "done" : "closed",
      c.holdout,
      firstAction,
      0, // arr_at_raise: set from the billing history in close()
    ]);
    this.truth.push([c.id, customerId, c.playbook, c.playTier, c.created, c.holdout, c.worked, pWorked, pNot]);
  }

  /**
   * Closes the writers; then each CTA's ARR at raise, rolled back from today's ARR through the
   * subscription changes after that day (as the features do), once every table is written.
   */
  async close(conn: DuckDBConnection): Promise<void> {
    this.history.close();
    this.truth.close();
    await conn.run(
      `UPDATE raw.cta_history h SET arr_at_raise = round(greatest(c.arr - coalesce(
         (SELECT sum(s.arr_delta) FROM raw.subscription_changes s WHERE s.customer_id = h.customer_id AND s.change_date > h.created_date), 0), 0), 2)
       FROM raw.customers c WHERE c.customer_id = h.customer_id`,
    );
  }
}

/** The rule's minimum priority, raised by the play tier (as int_cta_candidates.sql does). */
function priorityOf(rule: CtaRule, tier: RiskTier): string {
  return PRIORITIES[Math.min(PRIORITIES.indexOf(rule.minPriority), PRIORITIES.indexOf(priorityOfTier(tier)))]!;
}

/** One account's plays: reviewed month by month by generate.ts, written when its story ends. */
export class AccountPlays {
  private readonly ctas: SimCta[] = [];
  private current: SimCta | null = null;
  /** no new play before this day: the last one's horizon after its first action */
  private quietUntil = -Infinity;
  private readonly instances = new Map<string, number>();
  /** the untreated risk, kept while the known month and the contract stay the same */
  private risk: {known: number; tier: PlanTier; termEnd: number; p: number} | null = null;
  /** the churn logit on a decision day: the signals' plus the worked plays' */
  readonly logit = (day: number): number => this.account.extra + this.effectOn(day, null);

  /** `logit` for TruthState.extraOn, or nothing while no play was raised (then `extra` is every day's) */
  get extraOn(): ((day: number) => number) | undefined {
    return this.ctas.length ? this.logit : undefined;
  }

  constructor(
    private readonly loop: CtaLoop,
    private readonly rng: Rng,
    private readonly customerId: string,
    private readonly account: AccountState,
  ) {}

  /** Sum of the effects of the worked plays acting on `day`; `flip` counts that CTA the other way. */
  private effectOn(day: number, flip: SimCta | null): number {
    let x = 0;
    for (const c of this.ctas)
      if ((c === flip ? !c.worked : c.worked) && c.action <= day && day <= c.action + HORIZON)
        x += TRUE_EFFECT[c.playbook];
    return x;
  }

  /**
   * The weekly reviews that fall in month k, from the last day of month k−1 (after its churn
   * decisions) to the day before month k's end (before them): call after month k's health is
   * drawn. A review happens only while the account is a customer.
   */
  review(k: number, tier: PlanTier, termEnd: number, zPrev: number, z: number): void {
    const grid = this.loop.monthGrid;
    const asOf = grid.asOf;
    const first = Math.max(grid.end(k - 1), grid.startDay, asOf - 7 * REVIEW_WEEKS, this.account.signup + 1);
    const last = Math.min(grid.end(k) - 1, asOf - 1);
    // review days are the as-of date minus whole weeks
    let state = null as TruthState | null;
    for (let d = asOf - 7 * Math.floor((asOf - first) / 7); d <= last; d += 7) {
      // nothing to review while no play is open and the last one's horizon still runs
      if (!this.current && d < this.quietUntil) continue;
      // what is known on day d: the health of every month that started before it (MonthGrid.cutoffs)
      const known = d > grid.start(k) ? k : k - 1;
      if (state?.knownMonth !== known) {
        // written out, not spread: one object shape for churnProbability90's hot loop
        const a = this.account;
        state = {
          tier,
          mu: a.mu,
          e: a.e,
          act: a.act,
          signup: a.signup,
          knownMonth: known,
          zKnown: known === k ? z : zPrev,
          termEnd,
          firstEligibleMonth: a.firstEligibleMonth,
          extra: a.extra,
        };
      }
      this.reviewOn(d, state);
    }
  }

  private reviewOn(d: number, state: TruthState): void {
    // the team's view of the account's risk (the untreated probability) refreshes at its first
    // review once a new month of health is in, or the contract changed
    let r = this.risk;
    if (r?.known !== state.knownMonth || r.tier !== state.tier || r.termEnd !== state.termEnd) {
      const p = churnProbability90(state, d, HORIZON, this.loop.monthEnd, this.loop.monthOf);
      r = this.risk = {known: state.knownMonth, tier: state.tier, termEnd: state.termEnd, p};
    }
    const playTier = tierOfProbability(r.p);
    // what fires: the risk tier's reason (Critical or High), and low engagement
    const riskReason = REASON_OF_TIER[playTier];
    const lowEngagement = state.zKnown < LOW_ENGAGEMENT_Z;

    const open = this.current;
    const stillFires = open && (open.reason === riskReason || (lowEngagement && open.reason === LOW_ENGAGEMENT));
    if (open && (!stillFires || d >= open.created + MAX_OPEN_DAYS)) {
      open.closed = d;
      this.current = null;
    }
    // the most urgent that fires: a risk play before the low-engagement one
    const reason = riskReason ?? (lowEngagement ? LOW_ENGAGEMENT : undefined);
    if (this.current || d < this.quietUntil || !reason) return;
    const rule = ruleOf(reason);
    const playbook = rule.playbook as SimPlaybook;
    const n = (this.instances.get(reason) ?? 0) + 1;
    this.instances.set(reason, n);
    const holdout = this.loop.drawHoldout(
      `${playbook}|${playTier}|${state.tier}`,
      holdoutShareOf(playbooks.measurement, playbook),
    );
    const works = this.rng.u() < WORK_PROBABILITY[playbook];
    const c: SimCta = {
      // the id the nightly build gives the n-th CTA of an account + type + reason (mart_cta_history.sql)
      id: createHash("md5").update(`${this.customerId}|${rule.type}|${reason}|${n}`).digest("hex"),
      reason,
      rule,
      playbook,
      playTier,
      segment: state.tier,
      created: d,
      closed: null,
      holdout,
      worked: !holdout && works,
      action: d + this.rng.int(ACTION_DELAY_DAYS[0], ACTION_DELAY_DAYS[1]),
      state,
    };
    this.ctas.push(c);
    this.current = c;
    this.quietUntil = c.action + HORIZON;
  }

  /**
   * The account's story is over (churned on `churnDate`, or still a customer at the as-of date):
   * an open play closes with the churn; those closed before the as-of date are written, with their
   * truth — the churn probability over the horizon after the raise, with this CTA worked and
   * not (every other play as it happened, though none acts inside its horizon).
   */
  finish(churnDate: number | null): void {
    const grid = this.loop.monthGrid;
    if (churnDate !== null && this.current) this.current.closed = churnDate;
    for (const c of this.ctas) {
      if (c.closed === null || c.closed >= grid.asOf) continue;
      const p = (worked: boolean) =>
        churnProbability90(
          {...c.state, extraOn: (day) => this.account.extra + this.effectOn(day, c.worked === worked ? null : c)},
          c.created,
          HORIZON,
          this.loop.monthEnd,
          this.loop.monthOf,
        );
      this.loop.write(this.customerId, c, p(true), p(false));
    }
  }
}
