/**
 * The executive brief of the week (loaders/brief/): real nightly builds of one synthetic
 * portfolio (a first build on a Sunday, the Monday that sends the first weekly digest, a re-run
 * of that Monday, the Tuesday, and the next Monday), the brief's facts checked against an
 * independent computation from the builds' own risk scores, the built-in text's grammar and
 * grounding, the language-model path against the local OpenAI-compatible stub (grounded answers
 * accepted, others replaced by the built-in brief, and no name or id in any prompt), the weekly
 * digest delivered once per week to a Slack-format and a generic signed webhook receiver, and the
 * brief on the executive overview in Chromium.
 */
import {copyFileSync, mkdirSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Browser} from "playwright-core";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {build} from "../loaders/build.ts";
import {all, openWarehouse, type Warehouse} from "../loaders/duckdb.ts";
import {writePortfolioBrief} from "../loaders/brief/index.ts";
import {builtinBrief} from "../loaders/brief/builtin.ts";
import {
  readBriefInputs,
  restoreNames,
  type AccountFact,
  type BriefFacts,
  type BriefInput,
} from "../loaders/brief/facts.ts";
import {briefLlmFromEnv, checkBriefText} from "../loaders/brief/writer.ts";
import {drainOutbox} from "../loaders/alerts/deliver.ts";
import {DIGEST_EVENT_TYPE, type DigestEvent} from "../loaders/alerts/digest.ts";
import {enqueueWarehouseAlerts, type EnqueueResult} from "../loaders/alerts/enqueue.ts";
import {newSecret, type AlertTarget} from "../loaders/alerts/targets.ts";
import {briefRenewalWindowDays, config, type RiskTier} from "../src/rules/config.ts";
import {serveSite, type SiteServer} from "../server/site.ts";
import {launchBrowser} from "./helpers/browser.ts";
import {startLlmStub, type LlmStub} from "./helpers/llm-stub.ts";
import {startReceiver, type Receiver} from "./helpers/receiver.ts";
import {visitPage} from "./e2e/site-pages.ts";

const root = mkdtempSync(join(tmpdir(), "saasguard-brief-"));
const warehouse = join(root, "nightly", "warehouse.duckdb");
const dist = join(root, "dist");
const snapshot = (name: string) => join(root, `${name}.duckdb`);

/** The nights: Sunday (first build), Monday (digest day), Monday again (re-run), Tuesday, next Monday. */
const NIGHTS = [
  {name: "sun", asOf: "2026-06-21"},
  {name: "mon", asOf: "2026-06-22"},
  {name: "mon-rerun", asOf: "2026-06-22"},
  {name: "tue", asOf: "2026-06-23"},
  {name: "next-mon", asOf: "2026-06-29"},
] as const;
type Night = (typeof NIGHTS)[number]["name"];

const logs: Partial<Record<Night, string[]>> = {};
const enqueued: Partial<Record<Night, EnqueueResult>> = {};
let slack: Receiver;
let generic: Receiver;
let targets: AlertTarget[];
const outboxDir = join(root, "outbox");

async function withWarehouse<T>(path: string, f: (w: Warehouse) => Promise<T>): Promise<T> {
  const w = await openWarehouse(path, {readOnly: true});
  try {
    return await f(w);
  } finally {
    w.close();
  }
}

beforeAll(async () => {
  mkdirSync(join(root, "nightly"), {recursive: true});
  const secrets = [newSecret(), newSecret()];
  slack = await startReceiver({secret: secrets[0]!});
  generic = await startReceiver({secret: secrets[1]!});
  targets = [
    {name: "exec-slack", url: slack.url, format: "slack", secret: secrets[0]!, enabled: true},
    {name: "crm", url: generic.url, format: "generic", secret: secrets[1]!, enabled: true},
  ];
  for (const n of NIGHTS) {
    const lines: string[] = [];
    await build({
      asOf: n.asOf,
      customers: 300,
      seed: 11,
      source: "synthetic",
      warehousePath: warehouse,
      // the last night publishes the site, for the executive overview below
      site: n.name === "next-mon",
      distDir: dist,
      // no language model: the built-in generator writes the nightly briefs
      env: {},
      log: (l) => lines.push(l),
    });
    logs[n.name] = lines;
    copyFileSync(warehouse, snapshot(n.name));
    // what the build does after the swap when targets are configured, then `npm run alerts`
    enqueued[n.name] = await enqueueWarehouseAlerts({warehouse, outboxDir, targets});
    await drainOutbox({outboxDir, targets});
  }
}, 900_000);

afterAll(async () => {
  await slack?.close();
  await generic?.close();
  rmSync(root, {recursive: true, force: true});
});

interface ScoreRow {
  customer_id: string;
  risk_tier: RiskTier;
  health_score: number;
  arr: number;
  arr_at_risk: number;
  days_to_renewal: number;
  has_open_renewal_opp: boolean;
}

const scoresOf = (path: string) =>
  withWarehouse(path, (w) =>
    all<ScoreRow>(
      w.conn,
      `SELECT r.customer_id, r.risk_tier, r.health_score, r.arr, r.arr_at_risk, r.days_to_renewal, f.has_open_renewal_opp
       FROM marts.mart_customer_risk_scores r JOIN marts.mart_customer_churn_features f USING (customer_id)`,
    ),
  );

interface BriefRow {
  period: "build" | "week";
  baseline_as_of: string | null;
  has_baseline: boolean;
  accounts: number;
  arr_at_risk: number;
  at_risk_accounts: number;
  baseline_arr_at_risk: number | null;
  arr_at_risk_change: number | null;
  baseline_at_risk_accounts: number | null;
  entered_at_risk_accounts: number | null;
  entered_at_risk_arr: number | null;
  left_at_risk_accounts: number | null;
  joined_accounts: number | null;
  left_accounts: number | null;
  renewals_entering: number | null;
  renewals_entering_arr: number | null;
  renewals_entering_without_opportunity: number | null;
  digest_due: boolean;
  text: string;
  generator: string;
  guardrail_passed: boolean;
  watermark: string;
}

const briefOf = (path: string) =>
  withWarehouse(path, (w) =>
    all<BriefRow>(
      w.conn,
      `SELECT period, CAST(baseline_as_of AS VARCHAR) AS baseline_as_of, has_baseline, accounts, arr_at_risk, at_risk_accounts,
              baseline_arr_at_risk, arr_at_risk_change, baseline_at_risk_accounts, entered_at_risk_accounts, entered_at_risk_arr,
              left_at_risk_accounts, joined_accounts, left_accounts, renewals_entering, renewals_entering_arr,
              renewals_entering_without_opportunity, digest_due, text, generator, guardrail_passed, watermark
       FROM marts.mart_portfolio_brief ORDER BY period_order`,
    ),
  );

const listed = (path: string, period: string, list: string) =>
  withWarehouse(path, (w) =>
    all<{customer_id: string}>(
      w.conn,
      `SELECT customer_id FROM marts.mart_portfolio_brief_accounts WHERE period = '${period}' AND list = '${list}' ORDER BY rank`,
    ),
  ).then((rows) => rows.map((r) => r.customer_id));

const digestsOf = (path: string) =>
  withWarehouse(path, (w) =>
    all<{digest_id: string; as_of_date: string; baseline_as_of: string; text: string}>(
      w.conn,
      "SELECT digest_id, CAST(as_of_date AS VARCHAR) AS as_of_date, CAST(baseline_as_of AS VARCHAR) AS baseline_as_of, text FROM marts.mart_brief_digests ORDER BY as_of_date",
    ),
  );

/** The brief's facts computed again, in plain JavaScript, from two builds' risk scores. */
function expectedFacts(now: ScoreRow[], then: ScoreRow[]) {
  const rank = (t: RiskTier) => config.riskTiers.find((b) => b.tier === t)!.minScore;
  const atRisk = (t: RiskTier) => (config.atRiskTiers as readonly string[]).includes(t);
  const window = briefRenewalWindowDays();
  const before = new Map(then.map((r) => [r.customer_id, r]));
  const ids = new Set(now.map((r) => r.customer_id));
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
  const entered = now.filter((r) => {
    const b = before.get(r.customer_id);
    return atRisk(r.risk_tier) && (!b || rank(b.risk_tier) < rank(r.risk_tier));
  });
  const renewals = now.filter((r) => {
    const b = before.get(r.customer_id);
    return b !== undefined && r.days_to_renewal <= window && b.days_to_renewal > window;
  });
  const moves = now
    .filter((r) => before.has(r.customer_id))
    .map((r) => ({
      id: r.customer_id,
      change: Math.round(r.arr_at_risk) - Math.round(before.get(r.customer_id)!.arr_at_risk),
    }));
  const byId = (a: {id: string}, b: {id: string}) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    accounts: now.length,
    arr_at_risk: Math.round(sum(now.map((r) => r.arr_at_risk))),
    baseline_arr_at_risk: Math.round(sum(then.map((r) => r.arr_at_risk))),
    at_risk_accounts: now.filter((r) => atRisk(r.risk_tier)).length,
    baseline_at_risk_accounts: then.filter((r) => atRisk(r.risk_tier)).length,
    entered_at_risk_accounts: entered.length,
    entered_at_risk_arr: Math.round(sum(entered.map((r) => r.arr))),
    left_at_risk_accounts: now.filter((r) => {
      const b = before.get(r.customer_id);
      return b !== undefined && atRisk(b.risk_tier) && !atRisk(r.risk_tier);
    }).length,
    joined_accounts: now.filter((r) => !before.has(r.customer_id)).length,
    left_accounts: then.filter((r) => !ids.has(r.customer_id)).length,
    renewals_entering: renewals.length,
    renewals_entering_arr: Math.round(sum(renewals.map((r) => r.arr))),
    renewals_entering_without_opportunity: renewals.filter((r) => !r.has_open_renewal_opp).length,
    worsened: moves
      .filter((m) => m.change > 0)
      .sort((a, b) => b.change - a.change || byId(a, b))
      .slice(0, config.brief.movers)
      .map((m) => m.id),
    improved: moves
      .filter((m) => m.change < 0)
      .sort((a, b) => a.change - b.change || byId(a, b))
      .slice(0, config.brief.movers)
      .map((m) => m.id),
  };
}

describe("the brief's facts", () => {
  it("a first build says there is nothing to compare with, and sends no digest", async () => {
    const rows = await briefOf(snapshot("sun"));
    expect(rows.map((r) => r.period)).toEqual(["build", "week"]);
    for (const r of rows) {
      expect(r.has_baseline).toBe(false);
      expect(r.baseline_as_of).toBeNull();
      expect(r.arr_at_risk_change).toBeNull();
      expect(r.digest_due).toBe(false);
      expect(r.text).toMatch(/^First brief: no (previous build|weekly digest) to compare with yet/);
      expect(r.text).toContain("This is the first build here (data as of 21 Jun 2026)");
      expect(r.generator).toBe("builtin");
      expect(r.text.endsWith(config.governance.watermark)).toBe(true);
    }
    expect(await digestsOf(snapshot("sun"))).toEqual([]);
    expect(logs.sun!.join("\n")).toMatch(/brief of a first build \(nothing to compare with\)/);
  });

  it("match an independent computation from the two builds' scores (since the previous build and over the week)", async () => {
    const now = await scoresOf(snapshot("next-mon"));
    const cases = [
      {period: "build", baseline: "tue", asOf: "2026-06-23"},
      {period: "week", baseline: "mon-rerun", asOf: "2026-06-22"},
    ] as const;
    const rows = await briefOf(snapshot("next-mon"));
    for (const c of cases) {
      const got = rows.find((r) => r.period === c.period)!;
      const want = expectedFacts(now, await scoresOf(snapshot(c.baseline)));
      expect(got.baseline_as_of, c.period).toBe(c.asOf);
      expect(
        {
          accounts: got.accounts,
          arr_at_risk: got.arr_at_risk,
          baseline_arr_at_risk: got.baseline_arr_at_risk,
          at_risk_accounts: got.at_risk_accounts,
          baseline_at_risk_accounts: got.baseline_at_risk_accounts,
          entered_at_risk_accounts: got.entered_at_risk_accounts,
          entered_at_risk_arr: got.entered_at_risk_arr,
          left_at_risk_accounts: got.left_at_risk_accounts,
          joined_accounts: got.joined_accounts,
          left_accounts: got.left_accounts,
          renewals_entering: got.renewals_entering,
          renewals_entering_arr: got.renewals_entering_arr,
          renewals_entering_without_opportunity: got.renewals_entering_without_opportunity,
        },
        c.period,
      ).toEqual({
        accounts: want.accounts,
        arr_at_risk: want.arr_at_risk,
        baseline_arr_at_risk: want.baseline_arr_at_risk,
        at_risk_accounts: want.at_risk_accounts,
        baseline_at_risk_accounts: want.baseline_at_risk_accounts,
        entered_at_risk_accounts: want.entered_at_risk_accounts,
        entered_at_risk_arr: want.entered_at_risk_arr,
        left_at_risk_accounts: want.left_at_risk_accounts,
        joined_accounts: want.joined_accounts,
        left_accounts: want.left_accounts,
        renewals_entering: want.renewals_entering,
        renewals_entering_arr: want.renewals_entering_arr,
        renewals_entering_without_opportunity: want.renewals_entering_without_opportunity,
      });
      expect(got.arr_at_risk_change).toBe(want.arr_at_risk - want.baseline_arr_at_risk);
      expect(await listed(snapshot("next-mon"), c.period, "worsened")).toEqual(want.worsened);
      expect(await listed(snapshot("next-mon"), c.period, "improved")).toEqual(want.improved);
    }
    // a week of a real portfolio moves: the comparison is not vacuous
    const week = expectedFacts(now, await scoresOf(snapshot("mon-rerun")));
    expect(week.entered_at_risk_accounts).toBeGreaterThan(0);
    expect(week.worsened.length).toBe(config.brief.movers);
    expect(week.renewals_entering).toBeGreaterThan(0);
  });

  it("a re-run of the same night compares with what the first run compared with, and writes the same brief", async () => {
    const first = await briefOf(snapshot("mon"));
    const rerun = await briefOf(snapshot("mon-rerun"));
    expect(rerun.map((r) => r.baseline_as_of)).toEqual(["2026-06-21", "2026-06-21"]);
    expect(rerun.map((r) => r.text)).toEqual(first.map((r) => r.text));
    // the Monday's digest is carried, not raised again
    expect(first.find((r) => r.period === "week")!.digest_due).toBe(true);
    expect(rerun.find((r) => r.period === "week")!.digest_due).toBe(false);
    expect(await digestsOf(snapshot("mon-rerun"))).toEqual(await digestsOf(snapshot("mon")));
  });

  it("the week runs from digest to digest: Tuesday's week starts at Monday's digest, the next Monday sends the next", async () => {
    const tue = await briefOf(snapshot("tue"));
    expect(tue.map((r) => [r.period, r.baseline_as_of, r.digest_due])).toEqual([
      ["build", "2026-06-22", false],
      ["week", "2026-06-22", false],
    ]);
    const next = await briefOf(snapshot("next-mon"));
    expect(next.map((r) => [r.period, r.baseline_as_of, r.digest_due])).toEqual([
      ["build", "2026-06-23", false],
      ["week", "2026-06-22", true],
    ]);
    const digests = await digestsOf(snapshot("next-mon"));
    expect(digests.map((d) => [d.as_of_date, d.baseline_as_of])).toEqual([
      ["2026-06-22", "2026-06-21"],
      ["2026-06-29", "2026-06-22"],
    ]);
    // the digest is the week's brief, word for word
    expect(digests[1]!.text).toBe(next.find((r) => r.period === "week")!.text);
    expect(digests[1]!.text).toContain("In the 7 days since the last weekly digest (22 Jun 2026)");
  });
});

/** Facts for the grammar tests: one account or two of everything. */
function factsWith(n: 1 | 2): BriefFacts {
  const account = (i: number, over: Partial<AccountFact> = {}): AccountFact => ({
    account: `acct_${i}`,
    risk_tier: "Critical",
    previous_risk_tier: "Medium",
    health_score: 18.4,
    previous_health_score: 44.6,
    arr: 120_000,
    previous_arr: 120_000,
    arr_at_risk: 97_920,
    arr_at_risk_change: 31_440 + i,
    days_to_renewal: 47,
    renewal_date: "2026-08-15",
    renewal_date_label: "15 Aug 2026",
    has_open_renewal_opportunity: false,
    main_driver: "seat utilisation",
    ...over,
  });
  const accounts = Array.from({length: n}, (_, i) => account(i + 1));
  return {
    period: "build",
    period_label: "since the previous build",
    as_of: "2026-06-29",
    as_of_label: "29 Jun 2026",
    baseline_as_of: "2026-06-28",
    baseline_label: "28 Jun 2026",
    days_covered: 1,
    at_risk_tiers: ["Critical", "High"],
    accounts: 1_204,
    total_arr: 48_250_000,
    arr_at_risk: 9_812_345,
    at_risk_accounts: 40 + n,
    at_risk_arr: 3_400_000,
    renewal_window_days: 60,
    renewals_in_window: n,
    renewals_in_window_arr: 120_000 * n,
    change: {
      baseline_accounts: 1_204,
      baseline_arr_at_risk: 9_764_131,
      baseline_at_risk_accounts: 40,
      arr_at_risk_change: 48_214,
      entered_at_risk_accounts: n,
      entered_by_tier: [{tier: "Critical", accounts: n}],
      entered_at_risk_arr: 120_000 * n,
      left_at_risk_accounts: n - 1,
      joined_accounts: 0,
      left_accounts: 0,
      left_arr: 0,
      renewals_entering: n,
      renewals_entering_arr: 120_000 * n,
      renewals_entering_at_risk: n,
      renewals_entering_without_opportunity: n,
      accounts_worse: n,
      accounts_better: 0,
      entered_at_risk: accounts,
      worsened: accounts,
      improved: [],
      renewal_window: accounts,
    },
  };
}

function inputOf(facts: BriefFacts, names: string[]): BriefInput {
  return {
    facts,
    names: new Map(names.map((name, i) => [`acct_${i + 1}`, name])),
    ids: new Map(names.map((_, i) => [`acct_${i + 1}`, `C00000${i + 1}`])),
    digestDue: false,
  };
}

const textOf = (b: ReturnType<typeof builtinBrief>) =>
  [b.headline, b.summary, ...b.key_points, ...b.recommended_actions].join("\n");

describe("the built-in brief", () => {
  it("writes correct English for one account and for two", () => {
    const one = textOf(builtinBrief(factsWith(1)));
    expect(one).toContain("1 account entered Critical or High risk");
    expect(one).toContain("41 accounts are now at Critical or High risk (up from 40)");
    expect(one).toContain(
      "1 renewal ($120,000 ARR) entered the 60-day renewal window; it is at Critical or High risk.",
    );
    expect(one).toContain(
      "Biggest rise in ARR at risk: acct_1 (+$31,441, health 45 → 18, most points lost on seat utilisation).",
    );
    expect(one).toContain("Confirm an owner and a save plan for acct_1, which entered Critical or High risk.");
    expect(one).toContain(
      "Check that the renewal now inside 60 days has a proposal on the table: it has no open renewal opportunity",
    );
    expect(one).not.toMatch(/\b1 accounts\b|\b1 renewals\b|\baccount are\b/);
    const two = textOf(builtinBrief(factsWith(2)));
    expect(two).toContain("2 accounts entered Critical or High risk");
    expect(two).toContain("1 account moved out of it");
    expect(two).toContain("Biggest rises in ARR at risk: acct_1 (+$31,441");
    expect(two).toContain(
      "2 renewals ($240,000 ARR) entered the 60-day renewal window, all of them at Critical or High risk.",
    );
    expect(two).toContain("each of the 2 accounts that entered Critical or High risk, starting with acct_1 (Critical)");
    expect(two).toContain(
      "the 2 renewals now inside 60 days have a proposal on the table: none of them has an open renewal opportunity in the CRM.",
    );
    expect(two).not.toMatch(/\b2 account\b(?!s)|\b2 renewal\b(?!s)/);
    for (const t of [one, two]) {
      expect(t).toContain("rose $48,214, from $9,764,131 to $9,812,345");
      expect(t).not.toMatch(/\b[a-z]+_[a-z]+\b/); // no field names (account tokens are acct_<n>)
    }
  });

  it("names the accounts once the names are back, and passes the guardrail the model's answers pass", () => {
    const input = inputOf(factsWith(2), ["Delta Works Ltd", "Harbor & Sons"]);
    const brief = builtinBrief(input.facts);
    expect(checkBriefText(brief, input)).toMatchObject({ok: true});
    const named = restoreNames(textOf(brief), input.names);
    expect(named).toContain(
      "Confirm an owner and a save plan for each of the 2 accounts that entered Critical or High risk, starting with Delta Works Ltd (Critical).",
    );
    expect(named).toContain("Harbor & Sons (+$31,442");
    expect(named).not.toMatch(/acct_\d/);
  });

  it("passes the guardrail on every brief of the real builds", async () => {
    let checked = 0;
    for (const n of NIGHTS)
      await withWarehouse(snapshot(n.name), async (w) => {
        for (const input of await readBriefInputs(w.conn)) {
          const r = checkBriefText(builtinBrief(input.facts), input);
          expect(r, `${n.name} ${input.facts.period}: ${r.ok ? "" : r.detail}`).toMatchObject({ok: true});
          checked++;
        }
      });
    expect(checked).toBe(NIGHTS.length * 2);
  });
});

describe("the language model's brief (local OpenAI-compatible stub)", () => {
  let stub: LlmStub;
  let names: string[];
  let ids: string[];
  let owners: string[];
  beforeAll(async () => {
    stub = await startLlmStub();
    ({names, ids, owners} = await withWarehouse(snapshot("next-mon"), async (w) => {
      const rows = await all<{n: string; i: string; o: string | null}>(
        w.conn,
        "SELECT company_name AS n, customer_id AS i, csm_owner AS o FROM marts.mart_customer_risk_scores",
      );
      return {
        names: rows.map((r) => r.n),
        ids: rows.map((r) => r.i),
        owners: [...new Set(rows.flatMap((r) => (r.o ? [r.o] : [])))],
      };
    }));
  });
  afterAll(() => stub?.close());

  /** Tonight's brief written again on a copy of the last night, with the stub as the model. */
  async function rewrite(name: string) {
    const copy = join(root, `llm-${name}.duckdb`);
    copyFileSync(snapshot("next-mon"), copy);
    const llm = briefLlmFromEnv({LLM_BASE_URL: stub.url, LLM_MODEL: "stub-brief-model", LLM_TIMEOUT_MS: "5000"});
    expect(llm).not.toBeNull();
    const w = await openWarehouse(copy);
    try {
      const r = await writePortfolioBrief(w.conn, {previousWarehouse: snapshot("tue"), asOf: "2026-06-29", llm});
      const inputs = await readBriefInputs(w.conn);
      return {
        result: r,
        inputs,
        rows: await all<BriefRow>(
          w.conn,
          "SELECT period, text, generator, guardrail_passed FROM marts.mart_portfolio_brief ORDER BY period_order",
        ),
      };
    } finally {
      w.close();
    }
  }

  /** A grounded answer: the facts' own figures, accounts by token. */
  const grounded = (f: Record<string, unknown>) => {
    const facts = f as unknown as BriefFacts;
    const c = facts.change!;
    const usd = (n: number) => `$${Math.abs(n).toLocaleString("en-US")}`;
    const top = c.worsened[0]!;
    return {
      headline: `ARR at risk is ${usd(facts.arr_at_risk)} ${facts.period_label}`,
      summary: `${builtinBrief(facts).summary} The largest single rise was at ${top.account}.`,
      key_points: [
        `${c.entered_at_risk_accounts} accounts entered Critical or High risk, with ${usd(c.entered_at_risk_arr)} of ARR.`,
        `The biggest rise in ARR at risk was at ${top.account}, up ${usd(top.arr_at_risk_change!)}.`,
        `${c.renewals_entering} renewals entered the ${facts.renewal_window_days}-day window.`,
      ],
      recommended_actions: [`Review the save plan for ${top.account}.`],
    };
  };

  it("a grounded answer is used, names put back in, and no name, id or owner ever reaches the prompt", async () => {
    stub.reset();
    stub.mode = "custom";
    stub.custom = (f) => grounded(f as unknown as Record<string, unknown>);
    const {result, inputs, rows} = await rewrite("good");
    expect(rows.map((r) => [r.period, r.generator, r.guardrail_passed])).toEqual([
      ["build", "llm", true],
      ["week", "llm", true],
    ]);
    expect(result.briefs.build.llm_model).toBe("stub-brief-model");
    const build = inputs.find((i) => i.facts.period === "build")!;
    const topName = build.names.get(build.facts.change!.worsened[0]!.account)!;
    expect(rows[0]!.text).toContain(`The largest single rise was at ${topName}.`);
    expect(rows[0]!.text).not.toMatch(/acct_\d/);
    expect(rows[0]!.text.endsWith(config.governance.watermark)).toBe(true);
    // the prompts: facts with tokens only
    expect(stub.requests.length).toBe(2);
    for (const req of stub.requests) {
      const prompt = JSON.stringify(req.body.messages);
      expect(prompt).toContain("acct_1");
      for (const n of names) expect(prompt, n).not.toContain(n);
      for (const id of ids) expect(prompt, id).not.toContain(id);
      for (const o of owners) expect(prompt, o).not.toContain(o);
      expect(prompt).not.toContain("@");
    }
  });

  it("an answer that fails the guardrail twice is replaced by the built-in brief, flagged", async () => {
    for (const [bad, reason] of [
      ["invented", "ungrounded_number"],
      ["pii", "pii_leak"],
      ["entity", "ungrounded_entity"],
      ["markup", "markup"],
      ["obey", "injection"],
      ["shape", "schema"],
    ] as const) {
      stub.reset();
      stub.mode = "custom";
      stub.custom = (f) => {
        const g = grounded(f as unknown as Record<string, unknown>);
        if (bad === "invented") return {...g, summary: `${g.summary} Net retention reached 987.65% this quarter.`};
        if (bad === "pii") return {...g, key_points: [...g.key_points, "Call the champion on +1 415 555 0100."]};
        if (bad === "entity") return {...g, summary: `${g.summary} Quentin Zebulon owns the largest renewal.`};
        if (bad === "markup") return {...g, summary: `${g.summary} <img src=x onerror=alert(1)>`};
        if (bad === "obey") return {...g, summary: "As instructed, the portfolio is marked as healthy."};
        return {...g, key_points: []};
      };
      const {rows, result} = await rewrite(bad);
      expect(
        rows.map((r) => [r.generator, r.guardrail_passed]),
        bad,
      ).toEqual([
        ["builtin", false],
        ["builtin", false],
      ]);
      expect(result.briefs.build.fallback_reason, bad).toBe(`guardrail_failed: ${reason}`);
      expect(rows[0]!.text).toContain("Note: the AI brief failed validation, so this is the built-in brief.");
      expect(rows[0]!.text).not.toMatch(/987\.65|415 555|Zebulon|<img|instructed/);
      expect(stub.requests.length, bad).toBe(4); // one retry per period
    }
  });

  it("a model that answers once badly and then well is used; one that is down leaves the built-in brief", async () => {
    stub.reset();
    stub.mode = "custom";
    let calls = 0;
    stub.custom = (f) => {
      const g = grounded(f as unknown as Record<string, unknown>);
      return ++calls % 2 === 1 ? {...g, summary: `${g.summary} Revenue grew 987.65% last quarter.`} : g;
    };
    const retried = await rewrite("retry");
    expect(retried.rows.map((r) => r.generator)).toEqual(["llm", "llm"]);
    // the retry tells the model what was wrong
    expect(JSON.stringify(stub.requests[1]!.body.messages)).toContain("numbers that are not in FACTS");

    stub.reset();
    stub.mode = "500";
    const down = await rewrite("down");
    expect(down.rows.map((r) => [r.generator, r.guardrail_passed])).toEqual([
      ["builtin", false],
      ["builtin", false],
    ]);
    expect(down.result.briefs.build.fallback_reason).toMatch(/^llm_http_error/);
  });

  it("a first build is written by the built-in generator without asking the model", async () => {
    stub.reset();
    const copy = join(root, "llm-first.duckdb");
    copyFileSync(snapshot("sun"), copy);
    const llm = briefLlmFromEnv({LLM_BASE_URL: stub.url, LLM_MODEL: "stub-brief-model"});
    const w = await openWarehouse(copy);
    try {
      const r = await writePortfolioBrief(w.conn, {previousWarehouse: null, asOf: "2026-06-21", llm});
      expect(r.briefs.build.generator).toBe("builtin");
      expect(r.briefs.build.guardrail_passed).toBe(true);
    } finally {
      w.close();
    }
    expect(stub.requests).toEqual([]);
  });

  it("a bad language-model setting fails the build before any work, naming the variable", async () => {
    await expect(
      build({
        asOf: "2026-06-30",
        warehousePath: join(root, "never", "w.duckdb"),
        site: false,
        env: {LLM_BASE_URL: "ftp://x"},
        log: () => {},
      }),
    ).rejects.toThrow(/LLM_BASE_URL/);
  });
});

describe("the weekly digest", () => {
  const digestsAt = (r: Receiver) =>
    [...r.processed.entries()].filter(
      ([, p]) =>
        (p as {type?: string}).type === DIGEST_EVENT_TYPE || JSON.stringify(p).includes("Weekly portfolio brief"),
    );

  it("goes to every target once per week — not on other nights, not again on a re-run", async () => {
    expect(NIGHTS.map((n) => enqueued[n.name]!.digests)).toEqual([0, 1, 1, 0, 1]);
    // the re-run offers Monday's digest again under the same id: the outbox holds it already
    for (const r of [slack, generic]) {
      expect(digestsAt(r).map(([id]) => id).length).toBe(2);
      expect(r.duplicates).toBe(0);
    }
    const ids = (await digestsOf(snapshot("next-mon"))).map((d) => `msg_digest_${d.digest_id}`);
    expect(
      digestsAt(generic)
        .map(([id]) => id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(
      digestsAt(slack)
        .map(([id]) => id)
        .sort(),
    ).toEqual([...ids].sort());
  });

  it("speaks each target's format: a generic signed event, and Slack blocks", async () => {
    const digests = await digestsOf(snapshot("next-mon"));
    const last = digests[1]!;
    const event = generic.processed.get(`msg_digest_${last.digest_id}`) as DigestEvent;
    expect(event.type).toBe("portfolio.weekly_brief");
    expect(event.timestamp).toBe("2026-06-29T00:00:00Z");
    expect(event.data).toMatchObject({as_of: "2026-06-29", since: "2026-06-22", generator: "builtin", text: last.text});
    expect(event.data.text.endsWith(config.governance.watermark)).toBe(true);
    expect(event.data.key_points.length).toBeGreaterThan(0);
    expect(JSON.stringify(event)).not.toContain("@"); // no contact data

    const msg = slack.processed.get(`msg_digest_${last.digest_id}`) as {
      text: string;
      blocks: {type: string; text?: {text: string}; elements?: {text: string}[]}[];
    };
    expect(msg.text).toBe(`Weekly portfolio brief: ${event.data.headline.replaceAll("&", "&amp;")}`);
    expect(msg.blocks[0]).toEqual({
      type: "header",
      text: {type: "plain_text", text: "Weekly portfolio brief · 29 Jun 2026"},
    });
    expect(msg.blocks.some((b) => b.text?.text.startsWith("*What changed*\n• "))).toBe(true);
    expect(msg.blocks.some((b) => b.text?.text.startsWith("*The ask*\n• "))).toBe(true);
    expect(msg.blocks.at(-1)!.elements![0]!.text).toContain("since 22 Jun 2026 · written by the built-in generator");
    for (const b of msg.blocks) if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
  });
});

describe("the executive overview", () => {
  let server: SiteServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await serveSite({dir: dist, port: 0});
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows tonight's brief, this week's digest and links to the accounts it names", async () => {
    const v = await visitPage(browser, server.url, "brief-overview", async (p) => {
      await p.waitForSelector("#portfolio-brief");
    });
    try {
      expect(v.cellErrors).toEqual([]);
      expect(v.consoleErrors).toEqual([]);
      const rows = await briefOf(snapshot("next-mon"));
      const headline = rows[0]!.text.split("\n")[0]!;
      const card = v.page.locator("#brief");
      await expect(card.locator('.sg-brief[data-period="build"] .sg-brief-headline').textContent()).resolves.toBe(
        headline,
      );
      // the digest went out tonight: the week's brief is one click away, and the table of accounts
      await expect(v.page.locator("#brief-week > summary").textContent()).resolves.toBe(
        "This week's digest, since 22 Jun 2026",
      );
      await v.page.locator("#brief-week > summary").click();
      await expect(v.page.locator('#brief-week .sg-brief[data-period="week"]').isVisible()).resolves.toBe(true);
      expect(await card.locator(".sg-brief-accounts tr[data-list]").count()).toBeGreaterThan(0);
      expect(await card.locator("#brief-digest").textContent()).toContain(
        "went to the alert targets with tonight's build (every Monday)",
      );
      const links = await card.locator('.sg-brief[data-period="build"] a[href^="./customer-360?id="]').count();
      expect(links).toBeGreaterThan(0);
      const text = (await card.textContent()) ?? "";
      expect(text).toContain(config.governance.watermark);
      expect(text).toContain("Written by the built-in generator from the facts.");
      expect(text).not.toMatch(/\b[a-z]+_[a-z_]+\b/); // no snake_case reaches the reader
    } finally {
      await v.close();
    }
  });
});
