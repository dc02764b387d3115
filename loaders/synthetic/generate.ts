/**
 * The deterministic synthetic data generator: SaaSGuard's embedded default data.
 *
 * A B2B SaaS portfolio over `months` of history ending at `asOf`, written into `raw.*` exactly as
 * `loaders/contract.ts` describes, plus `truth.churn_probability`: the true 90-day churn
 * probability of every active account at every monthly cutoff, computed from the latent state
 * (see model.ts). Nothing downstream may read `truth.*`; it is the yardstick for model quality.
 * A simulated CS team works CTAs over the last year (cta-loop.ts): raw.cta_history, and the true
 * effect of its plays in truth.playbook_effects and truth.cta_effects.
 *
 * Same options ⇒ identical table contents. JS-side randomness comes from pure-rand (one stream
 * per customer), the daily usage expansion from DuckDB's hash() of (seed, customer, day, type).
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {z as zod} from "zod";
import {config} from "../../src/rules/config.ts";
import {DEFAULT_VOCABULARY as WORDS, valuesOf} from "../../src/rules/vocabulary.ts";
import {CONTRACT, createTableSql} from "../contract.ts";
import {writeVocabulary} from "../marts.ts";
import {writeTable} from "../duckdb.ts";
import type {ColumnType} from "../contract.ts";
import {ChunkWriter} from "./append.ts";
import {DEMO_CALLS_TABLE} from "../renewal-calls.ts";
import {addMonths, MonthGrid, nextFirstOfMonth, parseIsoDate, ymd} from "./calendar.ts";
import {
  atRisk,
  churnProbability90,
  COMPLIANCE_LOGIT,
  FRAGILE_LOGIT,
  FRAGILE_SHARE,
  GAP_CENTRE,
  GAP_LOGIT_MEAN,
  GAP_LOGIT_SD,
  OVER_DEPLOY_FACTOR,
  paymentFailure,
  signalLogit,
  enterpriseDowngradeAtRenewal,
  growthUpgradeAtRenewal,
  MU_ACTIVATED,
  MU_INDUSTRY,
  MU_NOT_ACTIVATED,
  MU_SD,
  MU_TIER,
  nextMean,
  renewalChurn,
  SIGMA,
  sigmoid,
  starterHazard,
  starterUpgrade,
  Z_SD,
} from "./latent-health.ts";
import {Rng} from "./rng.ts";
import {CtaLoop} from "./cta-loop.ts";
import type {PlanTier} from "./types.ts";
import {createScratch, dropScratch, expandUsage, monthKeys, MONTH_KEY_COLUMNS, SCRATCH} from "./usage.ts";
import {companyName, contactEmail, csmNames, ticketSubject} from "./words.ts";

export interface SyntheticOptions {
  customers: number;
  seed: number;
  /** YYYY-MM-DD, the last day of history */
  asOf: string;
  /** months of history, default 24 */
  months?: number;
  /** false leaves raw.usage_events empty: its expansion is most of the time, and tests of the CTA loop need none */
  usage?: boolean;
}

export interface SyntheticSummary {
  /** rows per raw table */
  tables: Record<string, number>;
  seconds: number;
}

export const SyntheticOptionsSchema = zod.object({
  customers: zod.number().int().min(1).max(2_000_000),
  seed: zod.number().int().min(-2147483648).max(4294967295),
  asOf: zod.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD"),
  months: zod.number().int().min(3).max(120).optional(),
  usage: zod.boolean().optional(),
});

export const TRUTH_TABLE = "truth.churn_probability";
/**
 * The true probability that an account active on a calendar quarter's first day churns by the
 * quarter's end (the window a quarter's gross retention counts): the retention forecast's truth.
 */
export const QUARTER_TRUTH_TABLE = "truth.quarter_churn_probability";
/** the random stream of the payment and compliance signals, apart from the accounts' own streams */
const SIGNAL_STREAM = 1 << 30;
/** the random stream of the demo CSMs' calls on upcoming renewals, apart from the others */
const CALL_STREAM = 1 << 29;

const DAY_US = 86_400_000_000;
const HORIZON = config.dataQuality.churnHorizonDays;
/** the activation gate counts integration connects in an account's first 30 days */
const ACTIVATION_WINDOW_DAYS = 30;
const TIERS: readonly PlanTier[] = ["Starter", "Growth", "Enterprise"];
const TIER_MIN: Record<PlanTier, number> = {Starter: 3_000, Growth: 15_000, Enterprise: 80_000};
/** the demo's words: the default vocabulary (src/rules/vocabulary.ts) */
const TIER_CEIL = Object.fromEntries(WORDS.planTiers.map((t) => [t.name, t.arrCeiling])) as Record<PlanTier, number>;
const INDUSTRIES = WORDS.industries;
const COMPANY_SIZES = WORDS.companySizes;
const OUTREACH_CHANNELS = WORDS.outreachChannels;
const TICKET_CATEGORIES = valuesOf(WORDS, "ticketCategories");
const SEAT_PRICE: Record<PlanTier, number> = {Starter: 1_000, Growth: 1_000, Enterprise: 900};
const SEATS: Record<PlanTier, [number, number]> = {Starter: [3, 15], Growth: [12, 80], Enterprise: [50, 330]};
/** company-size weights per tier (COMPANY_SIZES order) */
const SIZE_WEIGHTS: Record<PlanTier, number[]> = {
  Starter: [0.6, 0.3, 0.08, 0.02, 0],
  Growth: [0.15, 0.45, 0.3, 0.08, 0.02],
  Enterprise: [0, 0.05, 0.3, 0.4, 0.25],
};
/** seat multiplier per company size */
const SIZE_SEATS = [0.6, 0.9, 1.2, 1.5, 1.9];
const INDUSTRY_WEIGHTS = [0.16, 0.12, 0.13, 0.11, 0.09, 0.1, 0.1, 0.19];
const OUTREACH_BASE: Record<PlanTier, number> = {Starter: 0.12, Growth: 0.45, Enterprise: 1.1};
/** limit-hit multiplier: smaller plans hit limits sooner */
const LIMIT_FACTOR: Record<PlanTier, number> = {Starter: 1.6, Growth: 1.0, Enterprise: 0.5};
const CHURN_REASON_BASE = {
  budget: 0.24,
  competitor: 0.2,
  low_adoption: 0.14,
  product_gaps: 0.16,
  support_experience: 0.1,
  acquired: 0.06,
  other: 0.1,
};
/** share of customers that signed up during the history window */
const NEW_SHARE = 0.34;

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function roundMoney(x: number): number {
  return Math.round(x * 100) / 100;
}

interface Pending {
  id: string;
  created: number;
  close: number;
  won: boolean;
  amount: number;
  seatsDelta: number;
}

/** Generates every raw table and the truth table into `conn`. Replaces existing tables. */
export async function generateSynthetic(
  conn: DuckDBConnection,
  opts: SyntheticOptions,
  progress: (msg: string) => void = () => {},
): Promise<SyntheticSummary> {
  const parsed = SyntheticOptionsSchema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`generateSynthetic: invalid option ${issue.path.join(".") || "(options)"}: ${issue.message}`);
  }
  const t0 = performance.now();
  const {customers: N, seed} = parsed.data;
  const months = parsed.data.months ?? 24;
  const asOf = parseIsoDate(parsed.data.asOf);
  const grid = new MonthGrid(asOf, months);
  const K = grid.count;
  const start = grid.startDay;
  const cutoffs = grid.cutoffs();
  const idWidth = Math.max(6, String(N).length);
  const cid = (i: number) => "C" + String(i).padStart(idWidth, "0");
  const monthEnd = (k: number) => grid.end(k);
  const monthOf = (d: number) => grid.indexOf(d);

  // ---- schemas and tables ----
  await writeVocabulary(conn, WORDS);
  await conn.run("CREATE SCHEMA IF NOT EXISTS raw");
  for (const spec of CONTRACT) {
    await conn.run(`DROP TABLE IF EXISTS raw.${spec.name}`);
    await conn.run(createTableSql(spec));
  }
  await conn.run("CREATE SCHEMA IF NOT EXISTS truth; CREATE SCHEMA IF NOT EXISTS demo");
  await conn.run(
    `CREATE OR REPLACE TABLE ${DEMO_CALLS_TABLE} (customer_id VARCHAR, renewal_date DATE, call VARCHAR, actor VARCHAR, called_at TIMESTAMP)`,
  );
  await conn.run(`CREATE OR REPLACE TABLE ${TRUTH_TABLE} (customer_id VARCHAR, cutoff_date DATE, p_churn_90d DOUBLE)`);
  await conn.run(
    `CREATE OR REPLACE TABLE ${QUARTER_TRUTH_TABLE} (customer_id VARCHAR, quarter_start DATE, p_churn_quarter DOUBLE)`,
  );
  // what really drives the payment and compliance signals: per account, and the effects on churn
  await conn.run(
    "CREATE OR REPLACE TABLE truth.account_signals (customer_id VARCHAR, compliance_gap DOUBLE, fragile_payer BOOLEAN, over_deploy_factor DOUBLE)",
  );
  await writeTable(conn, "truth.signal_effects", {signal: "VARCHAR", churn_logit: "DOUBLE", meaning: "VARCHAR"}, [
    [
      "compliance_gap",
      COMPLIANCE_LOGIT,
      `churn log-odds per unit of the latent compliance gap (centred at ${GAP_CENTRE})`,
    ],
    [
      "fragile_payer",
      FRAGILE_LOGIT,
      `churn log-odds of an account whose payment method keeps failing (${FRAGILE_SHARE * 100}% of accounts)`,
    ],
    ["over_deployment", 0, "none: over-deployment follows expansion appetite, not churn"],
  ]);
  await createScratch(conn, N, idWidth);
  progress("scratch tables ready");

  const colTypes = (name: string): ColumnType[] => CONTRACT.find((t) => t.name === name)!.columns.map((c) => c.type);
  const open = (name: string) => ChunkWriter.open(conn, "raw", name, colTypes(name));
  const w = {
    customers: await open("customers"),
    support_tickets: await open("support_tickets"),
    gtm_opportunities: await open("gtm_opportunities"),
    subscription_changes: await open("subscription_changes"),
    invoices: await open("invoices"),
    nps_responses: await open("nps_responses"),
    cs_outreach: await open("cs_outreach"),
    churn_events: await open("churn_events"),
    payment_attempts: await open("payment_attempts"),
    account_risk_signals: await open("account_risk_signals"),
  };
  const signalsW = await ChunkWriter.open(conn, "truth", "account_signals", ["VARCHAR", "DOUBLE", "BOOLEAN", "DOUBLE"]);
  const truthW = await ChunkWriter.open(conn, "truth", "churn_probability", ["VARCHAR", "DATE", "DOUBLE"]);
  const quarterTruthW = await ChunkWriter.open(conn, "truth", "quarter_churn_probability", [
    "VARCHAR",
    "DATE",
    "DOUBLE",
  ]);
  const callsW = await ChunkWriter.open(conn, "demo", "renewal_calls", [
    "VARCHAR",
    "DATE",
    "VARCHAR",
    "VARCHAR",
    "TIMESTAMP",
  ]);
  const monthsW = await ChunkWriter.open(
    conn,
    SCRATCH,
    "months",
    Array<ColumnType>(4 + MONTH_KEY_COLUMNS.length).fill("INTEGER"),
  );
  const onbW = await ChunkWriter.open(conn, SCRATCH, "onboarding", ["INTEGER", "INTEGER", "INTEGER"]);
  // the CS team that worked SaaSGuard's plays over the last year (raw.cta_history, truth.cta_effects)
  const ctaLoop = await CtaLoop.open(conn, seed, grid);

  // ---- signup dates, ids assigned in signup order ----
  const rng0 = new Rng(seed, 0);
  const signups = new Float64Array(N);
  const preLo = start - 4 * 365;
  const preHi = start - HORIZON - 1;
  for (let i = 0; i < N; i++) {
    if (rng0.u() < NEW_SHARE) {
      // a growing business: signup density rises over the window
      signups[i] = start + Math.floor(Math.sqrt(rng0.u()) * (asOf - start + 1));
    } else {
      signups[i] = preLo + Math.floor(Math.sqrt(rng0.u()) * (preHi - preLo + 1));
    }
  }
  signups.sort();
  const csms = csmNames(Math.max(1, Math.round(N / 60)));

  let ticketSeq = 0,
    oppSeq = 0,
    changeSeq = 0,
    invoiceSeq = 0,
    npsSeq = 0,
    outreachSeq = 0,
    attemptSeq = 0;
  const nextId = (prefix: string, n: number, width: number) => prefix + String(n).padStart(width, "0");

  for (let i = 1; i <= N; i++) {
    const rng = new Rng(seed, i);
    const id = cid(i);
    const signup = signups[i - 1]!;
    const isNew = signup >= start;
    let tier = TIERS[rng.weighted([0.5, 0.35, 0.15])]!;
    const industry = INDUSTRIES[rng.weighted(INDUSTRY_WEIGHTS)]!;
    const sizeIdx = rng.weighted(SIZE_WEIGHTS[tier]);
    const [sLo, sHi] = SEATS[tier];
    let seats = Math.max(
      1,
      Math.round(clamp(Math.exp(Math.log(sLo) + rng.u() * Math.log(sHi / sLo)) * SIZE_SEATS[sizeIdx]!, sLo, sHi * 1.2)),
    );
    let arr = roundMoney(
      clamp(seats * SEAT_PRICE[tier] * Math.exp(0.15 * rng.normal()), TIER_MIN[tier], TIER_CEIL[tier]),
    );
    let mu = MU_TIER[tier] + (MU_INDUSTRY[industry] ?? 0) + MU_SD * rng.normal();
    const e = rng.normal();
    const api = rng.u() < (tier === "Enterprise" ? 0.25 : 0.45) ? 0 : Math.exp(0.5 * rng.normal());
    const csm = csms[Math.floor(rng.u() * csms.length)]!;
    const name = companyName(rng);
    const email = rng.u() < 0.97 ? contactEmail(rng, i) : null;
    const npsPhase = rng.int(0, 2);
    const firstStart = nextFirstOfMonth(signup);
    const firstEligible = monthOf(firstStart);
    // the payment and compliance signals draw from their own stream: every other table is what it
    // was before they existed, but for the churn their effect adds
    const rngS = new Rng(seed, SIGNAL_STREAM + i);
    const gap = sigmoid(GAP_LOGIT_MEAN + GAP_LOGIT_SD * rngS.normal());
    const fragile = rngS.u() < FRAGILE_SHARE;
    const overDeploy = e > 1 && rngS.u() < 0.5 ? OVER_DEPLOY_FACTOR : 1;
    const reviewPhase = rngS.int(0, 2);
    const extra = signalLogit(gap, fragile);
    signalsW.push([id, Math.round(gap * 1e4) / 1e4, fragile, overDeploy]);

    // initial health and (for new accounts) onboarding activation
    let z: number;
    let act = false;
    const onbDays: number[] = [];
    if (isNew) {
      z = mu + 0.8 * Z_SD * rng.normal();
      const k30 = rng.poisson(Math.exp(0.55 + 0.3 * z));
      act = k30 >= config.flags.activationGateIntegrations;
      mu += act ? MU_ACTIVATED : MU_NOT_ACTIVATED;
      for (let j = 0; j < k30; j++) onbDays.push(signup + rng.int(0, ACTIVATION_WINDOW_DAYS - 1));
    } else {
      z = mu + Z_SD * rng.normal();
    }

    // the CS plays worked on this account: churn decisions read their effect through plays.logit
    const plays = ctaLoop.account(i, id, {mu, e, act, signup, firstEligibleMonth: firstEligible, extra});

    // contract term: terms start on the 1st of a month and last 12 months
    let termStart = firstStart;
    let termEnd = addMonths(termStart, 12) - 1;
    while (termEnd < start) {
      termStart = termEnd + 1;
      termEnd = addMonths(termStart, 12) - 1;
    }

    let churnDate: number | null = null;
    let lastZ = z;
    const pending: Pending[] = [];
    const kFirst = Math.max(0, monthOf(signup));
    const onbEnd = isNew ? signup + ACTIVATION_WINDOW_DAYS : null;

    const change = (date: number, type: string, arrDelta: number, seatsDelta: number | null) => {
      w.subscription_changes.push([nextId("S", ++changeSeq, 8), id, date, type, roundMoney(arrDelta), seatsDelta]);
    };
    const resolveOpp = (p: Pending, closeDate: number, won: boolean) => {
      w.gtm_opportunities.push([
        p.id,
        id,
        "expansion",
        won ? "closed_won" : "closed_lost",
        p.amount,
        p.created,
        closeDate,
      ]);
    };

    for (let k = kFirst; k < K; k++) {
      const mStart = grid.start(k);
      const mEnd = grid.end(k);
      const dFrom = Math.max(mStart, signup, start);
      let dTo = Math.min(mEnd, asOf);
      const zPrev = k === kFirst ? z : lastZ;
      if (k > kFirst) z = nextMean(mu, zPrev) + SIGMA * rng.normal();
      lastZ = z;
      plays.review(k, tier, termEnd, zPrev, z);
      const frac = (dTo - dFrom + 1) / (mEnd - mStart + 1);
      const seatsAtStart = seats;
      let seatsMin = seats;

      // expansion opportunities closing this month
      for (let j = 0; j < pending.length;) {
        const p = pending[j]!;
        if (p.close <= dTo) {
          resolveOpp(p, p.close, p.won);
          if (p.won) {
            const newArr = Math.min(TIER_CEIL[tier], arr + p.amount);
            change(p.close, "seat_add", newArr - arr, p.seatsDelta);
            arr = roundMoney(newArr);
            seats += p.seatsDelta;
          }
          pending.splice(j, 1);
        } else j++;
      }

      // low health: seat removals
      if (seats > 1 && rng.u() < sigmoid(-4.2 - 1.5 * z) * frac) {
        const d = dFrom + rng.int(0, dTo - dFrom);
        const delta = Math.min(seats - 1, Math.max(1, Math.round(seats * (0.08 + 0.17 * rng.u()))));
        const newArr = Math.max(TIER_MIN[tier] * 0.7, arr * (1 - delta / seats));
        change(d, "seat_remove", newArr - arr, -delta);
        arr = roundMoney(newArr);
        seats -= delta;
        seatsMin = Math.min(seatsMin, seats);
      }

      // new expansion opportunity
      const tierAdj = tier === "Starter" ? -0.3 : tier === "Enterprise" ? 0.3 : 0;
      if (rng.u() < sigmoid(-4.0 + 1.3 * e + 0.4 * z + tierAdj) * frac) {
        const created = dFrom + rng.int(0, dTo - dFrom);
        const close = created + rng.int(30, 100);
        const won = rng.u() < sigmoid(0.1 + 0.9 * e + 0.6 * z);
        const amount = roundMoney(Math.max(500, arr * (0.1 + 0.25 * rng.u())));
        pending.push({
          id: nextId("O", ++oppSeq, 8),
          created,
          close,
          won,
          amount,
          seatsDelta: Math.max(1, Math.round(seats * (0.1 + 0.2 * rng.u()))),
        });
      }

      // churn / renewal / upgrade decisions dated inside this month and not after as-of
      if (tier !== "Starter" && termEnd >= mStart && termEnd <= mEnd && termEnd <= asOf) {
        const q = renewalChurn(tier, z, e, plays.logit(termEnd));
        const oppId = nextId("O", ++oppSeq, 8);
        const created = termEnd - 120 + rng.int(-6, 6);
        if (rng.u() < q) {
          churnDate = termEnd;
          w.gtm_opportunities.push([oppId, id, "renewal", "closed_lost", arr, created, termEnd]);
        } else {
          let newTier = tier;
          if (tier === "Growth" && rng.u() < growthUpgradeAtRenewal(z, e)) newTier = "Enterprise";
          else if (tier === "Enterprise" && rng.u() < enterpriseDowngradeAtRenewal(z)) newTier = "Growth";
          termStart = termEnd + 1;
          termEnd = addMonths(termStart, 12) - 1;
          if (newTier !== tier) {
            const up = newTier === "Enterprise";
            const newSeats = Math.max(1, Math.round(seats * (up ? 1.5 : 0.6)));
            const newArr = roundMoney(
              clamp(
                newSeats * SEAT_PRICE[newTier] * Math.exp(0.1 * rng.normal()),
                TIER_MIN[newTier],
                TIER_CEIL[newTier],
              ),
            );
            change(termStart, up ? "upgrade" : "downgrade", newArr - arr, newSeats - seats);
            arr = newArr;
            seats = newSeats;
            tier = newTier;
          }
          w.gtm_opportunities.push([oppId, id, "renewal", "closed_won", arr, created, termStart - 1]);
        }
      } else if (tier === "Starter" && mEnd <= asOf && k >= firstEligible) {
        if (rng.u() < starterHazard(z, e, mEnd - signup <= HORIZON, act, plays.logit(mEnd))) {
          churnDate = mEnd;
        } else {
          if (termEnd === mEnd) {
            termStart = termEnd + 1;
            termEnd = addMonths(termStart, 12) - 1;
          }
          if (rng.u() < starterUpgrade(z, e)) {
            const newSeats = Math.max(SEATS.Growth[0], Math.round(seats * 1.5));
            const newArr = roundMoney(
              clamp(newSeats * SEAT_PRICE.Growth * Math.exp(0.1 * rng.normal()), TIER_MIN.Growth, TIER_CEIL.Growth),
            );
            termStart = mEnd + 1;
            termEnd = addMonths(termStart, 12) - 1;
            change(termStart, "upgrade", newArr - arr, newSeats - seats);
            arr = newArr;
            seats = newSeats;
            tier = "Growth";
          }
        }
      }
      if (churnDate !== null) dTo = Math.min(dTo, churnDate);

      if (dFrom <= dTo) {
        const span = dTo - dFrom;
        // usage rates for the SQL expansion
        // (the fewest seats held during the month, so active users never exceed the licence)
        // (an over-deploying account lets more people in than it licenses)
        monthsW.push([
          i,
          dFrom,
          dTo,
          onbEnd,
          ...monthKeys({seats: Math.round(seatsMin * overDeploy), z, e, api, lim: LIMIT_FACTOR[tier]}),
        ]);

        // CS outreach: more touches for at-risk accounts and before renewals
        const renewalPrep = tier !== "Starter" && termEnd - mEnd < 120 ? 0.5 : 0;
        const nOut = rng.poisson((OUTREACH_BASE[tier] * (0.4 + 3 * atRisk(zPrev)) + renewalPrep) * frac);
        for (let j = 0; j < nOut; j++) {
          const d = dFrom + rng.int(0, span);
          const risky = atRisk(zPrev);
          const ch = rng.weighted(
            tier === "Starter"
              ? [0.55, 0.15, 0.05, 0, 0.25]
              : [0.35, 0.25 + 0.2 * risky, 0.2, tier === "Enterprise" ? 0.1 + 0.2 * risky : 0.03, 0.1],
          );
          w.cs_outreach.push([nextId("A", ++outreachSeq, 9), id, d, OUTREACH_CHANNELS[ch]!, csm]);
        }

        // support tickets: volume and severity rise as health falls; feature requests follow appetite
        const nIssue = rng.poisson(0.25 * Math.pow(seatsAtStart, 0.3) * Math.exp(-1.0 * z) * frac);
        const nFr = rng.poisson(0.03 * Math.pow(seatsAtStart, 0.4) * Math.exp(0.9 * e) * frac);
        for (let j = 0; j < nIssue + nFr; j++) {
          const fr = j >= nIssue;
          const category = fr
            ? "feature_request"
            : TICKET_CATEGORIES[rng.weighted([0.35, 0.3, 0.1, 0.15, 0.1 * Math.exp(-0.3 * z), 0])]!;
          let priority: string;
          if (fr) priority = rng.u() < 0.6 ? "low" : "medium";
          else if (rng.u() < sigmoid(-1.8 - 1.0 * z)) priority = rng.u() < 0.3 ? "urgent" : "high";
          else priority = rng.u() < 0.55 ? "medium" : "low";
          const d = dFrom + rng.int(0, span);
          const openedUs = d * DAY_US + Math.floor((7 + 13 * rng.u()) * 3600) * 1e6;
          const meanH = priority === "urgent" ? 5 : priority === "high" ? 14 : priority === "medium" ? 32 : 60;
          const hours = meanH * Math.exp(0.7 * rng.normal() - 0.25 * z);
          const resolvedUs = openedUs + Math.max(60, Math.round(hours * 3600)) * 1e6;
          const resolved = resolvedUs < (asOf + 1) * DAY_US ? resolvedUs : null;
          let csat: number | null = null;
          if (resolved !== null && rng.u() < 0.45)
            csat = Math.round(clamp(3.7 + 0.8 * z - (priority === "urgent" ? 0.4 : 0) + 0.8 * rng.normal(), 1, 5));
          w.support_tickets.push([
            nextId("T", ++ticketSeq, 9),
            id,
            openedUs,
            resolved,
            priority,
            category,
            csat,
            ticketSubject(rng, category),
          ]);
        }

        // quarterly security and compliance review: a noisy reading of the latent gap
        if ((k + reviewPhase) % 3 === 0) {
          const observed = Math.round(clamp(gap + 0.05 * rngS.normal(), 0, 1) * 100) / 100;
          w.account_risk_signals.push([id, dFrom + rngS.int(0, span), observed, rngS.poisson(3 * gap)]);
        }

        // quarterly NPS survey
        if ((k + npsPhase) % 3 === 0 && rng.u() < 0.32 * frac) {
          const d = dFrom + rng.int(0, span);
          const score = Math.round(clamp(7.2 + 1.5 * z + 1.3 * rng.normal(), 0, 10));
          w.nps_responses.push([nextId("N", ++npsSeq, 8), id, d, score]);
        }

        // invoices: Starter monthly, Growth/Enterprise quarterly, issued on the 1st
        if (mStart >= dFrom && mStart <= dTo && mStart >= firstStart) {
          const monthsIntoTerm = monthOf(mStart) - monthOf(termStart);
          const isStarter = tier === "Starter";
          if (isStarter || ((monthsIntoTerm % 3) + 3) % 3 === 0) {
            const amount = roundMoney(isStarter ? arr / 12 : arr / 4);
            const due = mStart + 30;
            let paid: number | null;
            if (rng.u() < sigmoid(-2.5 - 1.5 * z)) paid = due + 3 + Math.floor(Math.exp(2.3 + 0.6 * rng.normal()));
            else paid = mStart + rng.int(0, 27);
            if (paid > asOf) paid = null;
            w.invoices.push([nextId("INV", ++invoiceSeq, 9), id, mStart, due, paid, amount]);
            // the charge and its smart retries (dunning) until one succeeds
            for (let a = 0, day = mStart; a < 4 && day <= asOf; a++, day += 4 + rngS.int(0, 3)) {
              const failed = rngS.u() < paymentFailure(z, fragile);
              w.payment_attempts.push([
                nextId("PA", ++attemptSeq, 9),
                id,
                day,
                amount,
                failed ? "failed" : "succeeded",
              ]);
              if (!failed) break;
            }
          }
        }
      }

      // truth at the cutoff(s) whose latest known month is k
      if (churnDate === null) {
        for (const c of cutoffs) {
          if (c.known !== k || signup >= c.day) continue;
          const state = {
            tier,
            mu,
            e,
            act,
            signup,
            knownMonth: k,
            zKnown: z,
            termEnd,
            firstEligibleMonth: firstEligible,
            extra,
            extraOn: plays.extraOn, // with the plays already under way
          };
          truthW.push([id, c.day, churnProbability90(state, c.day, HORIZON, monthEnd, monthOf)]);
          // a quarter's first day: the chance of churning by the quarter's last (months k + 1 … k + 3)
          if (ymd(c.day)[1] % 3 === 0 && c.day === grid.start(k + 1))
            quarterTruthW.push([
              id,
              c.day,
              churnProbability90(state, c.day, HORIZON, monthEnd, monthOf, monthEnd(k + 3) - c.day),
            ]);
        }
      }
      if (churnDate !== null) break;
    }

    plays.finish(churnDate);

    // open or abandoned expansion opportunities
    for (const p of pending) {
      if (churnDate !== null) {
        if (p.created <= churnDate) resolveOpp(p, Math.max(p.created, churnDate), false);
      } else {
        const progressShare = (asOf - p.created) / Math.max(1, p.close - p.created);
        const stage =
          progressShare < 0.25
            ? "prospecting"
            : progressShare < 0.5
              ? "qualification"
              : progressShare < 0.75
                ? "proposal"
                : "negotiation";
        w.gtm_opportunities.push([p.id, id, "expansion", stage, p.amount, p.created, p.close]);
      }
    }
    // the renewal in flight
    if (churnDate === null && tier !== "Starter" && termEnd - 120 <= asOf) {
      const daysLeft = termEnd - asOf;
      const stage =
        daysLeft > 90 ? "prospecting" : daysLeft > 60 ? "qualification" : daysLeft > 30 ? "proposal" : "negotiation";
      w.gtm_opportunities.push([
        nextId("O", ++oppSeq, 8),
        id,
        "renewal",
        stage,
        arr,
        Math.min(asOf, termEnd - 120 + rng.int(-6, 6)),
        termEnd,
      ]);
    }

    // the CSM's call on an annual renewal of the next year: most are made once a checkpoint
    // review (180 days out) has passed. The CSM reads the account's risk at renewal with noise
    // (they know things the data does not, and miss things it shows), so calls and the model
    // disagree now and then, as they do.
    if (churnDate === null && tier !== "Starter" && termEnd > asOf && termEnd <= asOf + 365) {
      const rngC = new Rng(seed, CALL_STREAM + i);
      if (rngC.u() < (termEnd - asOf <= 180 ? 0.6 : 0.15)) {
        const q = renewalChurn(tier, lastZ, e, plays.logit(termEnd));
        const seen = 1 / (1 + Math.exp(-(Math.log(q / (1 - q)) + rngC.normal())));
        const call = seen < 0.05 ? "commit" : seen < 0.15 ? "likely" : seen < 0.4 ? "at_risk" : "lost";
        // within 180 days: made since the checkpoint passed; further out: in the last weeks
        const back = asOf - rngC.int(0, 45);
        const day = termEnd - asOf <= 180 ? Math.max(back, termEnd - 180) : back;
        callsW.push([id, termEnd, call, csm, day * DAY_US + rngC.int(9, 17) * 3_600_000_000]);
      }
    }

    // onboarding integration connects (first 30 days), aggregated per day
    if (onbDays.length > 0) {
      const last = Math.min(asOf, churnDate ?? asOf);
      const perDay = new Map<number, number>();
      for (const d of onbDays) if (d <= last) perDay.set(d, (perDay.get(d) ?? 0) + 1);
      for (const [d, n] of [...perDay.entries()].sort((a, b) => a[0] - b[0])) onbW.push([i, d, n]);
    }

    if (churnDate !== null) {
      const dormant = lastZ < -1.4;
      const weights = Object.values(CHURN_REASON_BASE).slice();
      if (dormant) weights[2]! *= 4;
      if (lastZ < -0.8) weights[4]! *= 2.5;
      if (e > 1) weights[3]! *= 2;
      const keys = Object.keys(CHURN_REASON_BASE);
      const reason = rng.u() < 0.05 ? null : keys[rng.weighted(weights)]!;
      w.churn_events.push([id, churnDate, reason, arr]);
    }

    const ref = churnDate ?? asOf;
    const tenure = ref - signup;
    const stage =
      tenure < HORIZON
        ? "Onboarding"
        : termEnd - ref <= 120 && termEnd >= ref
          ? "Renewal"
          : tenure < 365
            ? "Adoption"
            : "Mature";
    w.customers.push([
      id,
      name,
      email,
      industry,
      COMPANY_SIZES[sizeIdx]!,
      tier,
      arr,
      seats,
      signup,
      termStart,
      termEnd,
      stage,
      csm,
    ]);

    if (i % 10_000 === 0) progress(`simulated ${i} of ${N} customers`);
    // the writers' data chunks are native memory that Node-API frees only between turns of the
    // event loop: a loop that never yields held ~9 KB per customer (8.4 GB at a million)
    if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
  }

  for (const x of Object.values(w)) x.close();
  await ctaLoop.close(conn);
  truthW.close();
  quarterTruthW.close();
  callsW.close();
  signalsW.close();
  monthsW.close();
  onbW.close();
  progress("accounts simulated; expanding daily usage in DuckDB");

  if (parsed.data.usage !== false) await expandUsage(conn, seed, N, progress);
  await dropScratch(conn);
  progress("scratch dropped");

  const tables: Record<string, number> = {};
  for (const spec of CONTRACT) {
    const r = await conn.runAndReadAll(`SELECT count(*) FROM raw.${spec.name}`);
    tables[spec.name] = Number(r.getRows()[0]![0]);
  }
  const seconds = (performance.now() - t0) / 1000;
  progress(`synthetic data ready in ${seconds.toFixed(1)} s`);
  return {tables, seconds};
}
