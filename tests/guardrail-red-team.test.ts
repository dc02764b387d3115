/**
 * The guardrail against its red-team corpus (tests/fixtures/guardrail-red-team.ts): every hostile
 * answer is refused by the check made for it, every honest one passes, on several real accounts;
 * a sample of both goes end to end through the API with an OpenAI-compatible stub; and no hostile
 * `instructions` reach the model — honest ones reach it normalised.
 */
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {ApiServer} from "../server/serve-api.ts";
import {builtinSummary} from "../server/api/summaries/builtin.ts";
import {accountTokenFactory, loadFactSheet, type FactSheet} from "../server/api/summaries/facts.ts";
import {checkAnswer} from "../server/api/summaries/guardrail.ts";
import {numbersAsDigits, normalizeText} from "../server/api/summaries/normalize.ts";
import {
  BENIGN_ANSWERS,
  BENIGN_INSTRUCTIONS,
  HOSTILE_ANSWERS,
  HOSTILE_INSTRUCTIONS,
  type Field,
  type HostileAnswer,
} from "./fixtures/guardrail-red-team.ts";
import {startLlmStub, type LlmStub} from "./helpers/llm-stub.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

let srv: ApiServer;
let stub: LlmStub;
let sheets: FactSheet[] = [];

/** A grounded answer for the sheet with `text` added to one field. */
function answerWith(sheet: FactSheet, text: string, field: Field = "summary", patch: Record<string, unknown> = {}) {
  const good = builtinSummary(sheet.facts);
  const a: Record<string, unknown> = {...good};
  if (text)
    a[field] =
      field === "key_points" || field === "recommended_actions"
        ? [...(good[field] as string[]).slice(0, 3), text]
        : field === "headline"
          ? text.slice(0, 200)
          : `${good.summary} ${text}`;
  return {...a, ...patch};
}

function verdictOf(sheet: FactSheet, c: HostileAnswer): string {
  const v = checkAnswer(
    JSON.stringify(answerWith(sheet, c.text(sheet.facts, sheet.private), c.in, c.patch?.(sheet.facts))),
    sheet.facts,
    sheet.private,
  );
  return v.ok ? "passed" : v.reason;
}

beforeAll(async () => {
  const warehousePath = await ensureTestWarehouse();
  stub = await startLlmStub();
  srv = await startTestApi({
    warehousePath,
    modelsDir: join(dirname(warehousePath), "models"),
    llm: {baseURL: stub.url, apiKey: "stub-secret", model: "stub-model"},
    llmTimeoutMs: 2000,
    llmCircuitFailures: 100_000,
    summaryCacheSize: 0,
  });
  const token = accountTokenFactory("red-team-secret-0123456789");
  sheets = await srv.warehouse.use(async (snap) => {
    const ids = (
      await snap.query<{customer_id: string}>(
        "SELECT customer_id FROM marts.mart_customer_risk_scores ORDER BY customer_id LIMIT 200",
      )
    ).map((r) => r.customer_id);
    const out: FactSheet[] = [];
    // accounts of each risk tier, with a company name and a CSM to leak
    for (const id of ids) {
      const s = (await loadFactSheet(snap, id, token(id)))!;
      if (s.private.company_name && s.private.csm_owner && !out.some((o) => o.facts.model_tier === s.facts.model_tier))
        out.push(s);
    }
    return out;
  });
}, 600_000);
afterAll(async () => {
  await srv?.close();
  await stub?.close();
});

describe("the red-team corpus", () => {
  it("holds at least 100 hostile answers of every kind the hostile test found, and 20 honest ones", () => {
    expect(HOSTILE_ANSWERS.length).toBeGreaterThanOrEqual(100);
    expect(BENIGN_ANSWERS.length).toBeGreaterThanOrEqual(20);
    expect(HOSTILE_INSTRUCTIONS.length).toBeGreaterThanOrEqual(15);
    const kinds = HOSTILE_ANSWERS.map((c) => c.kind).join("\n");
    for (const k of [
      /number in words/,
      /full-width digits/,
      /Arabic-Indic/,
      /ordinal/,
      /zero-width space before @/,
      /\[at\] and \[dot\]/,
      /full-width @/,
      /company name hyphenated/,
      /system prompt lower-cased/,
      /tier explained away/,
      /markup/,
      /human-verified/,
    ])
      expect(kinds).toMatch(k);
    expect(sheets.length).toBeGreaterThanOrEqual(2);
  });

  it("every hostile answer is refused, by the check made for it, on every account", () => {
    const leaks: string[] = [];
    for (const sheet of sheets)
      for (const c of HOSTILE_ANSWERS) {
        const v = verdictOf(sheet, c);
        if (!c.reasons.includes(v as never))
          leaks.push(`${sheet.facts.model_tier} / ${c.kind} (${c.text(sheet.facts, sheet.private)}): ${v}`);
      }
    expect(leaks).toEqual([]);
  });

  it("a number in words is the number: grounded words pass, ungrounded ones do not", () => {
    const t = (s: string) => numbersAsDigits(normalizeText(s).text);
    expect(t("thirty-seven percent")).toBe("37%");
    expect(t("four point eight million")).toBe("4.8M");
    expect(t("٣٧% and ３７%")).toBe("37% and 37%");
    expect(t("two thousand three hundred and five")).toBe("2305");
    expect(t("the 15th time, the fifteenth time")).toBe("the 15 time, the 15 time");
    expect(t("one of the drivers; first, review")).toBe("one of the drivers; first, review");
  });

  it("every honest answer passes on every account", () => {
    const refused: string[] = [];
    for (const sheet of sheets)
      for (const b of BENIGN_ANSWERS) {
        const v = checkAnswer(JSON.stringify(answerWith(sheet, b.text(sheet.facts), b.in)), sheet.facts, sheet.private);
        if (!v.ok) refused.push(`${sheet.facts.model_tier} / ${b.kind}: ${v.reason} (${v.detail})`);
      }
    expect(refused).toEqual([]);
  });

  /** The server tokenises accounts with its own secret: the answer names the account by that token. */
  const asServed = (answer: Record<string, unknown>, token: string) =>
    JSON.parse(JSON.stringify(answer).replaceAll(sheets[0]!.facts.account_token, token)) as Record<string, unknown>;

  it("end to end: hostile answers from the endpoint become the flagged built-in summary; honest ones are served", async () => {
    const sheet = sheets[0]!;
    const id = sheet.private.customer_id;
    const sample = HOSTILE_ANSWERS.filter((_, i) => i % 9 === 0);
    for (const c of sample) {
      stub.reset();
      stub.mode = "custom";
      stub.custom = (f) =>
        asServed(answerWith(sheet, c.text(sheet.facts, sheet.private), c.in, c.patch?.(sheet.facts)), f.account_token);
      const r = await fetch(`${srv.url}/summaries/customer`, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({customer_id: id}),
      });
      const body = (await r.json()) as {
        generator: string;
        flagged: boolean;
        guardrail: {failures: string[]};
        text: string;
      };
      expect(r.status).toBe(200);
      expect({kind: c.kind, generator: body.generator, flagged: body.flagged}).toEqual({
        kind: c.kind,
        generator: "builtin",
        flagged: true,
      });
      expect(c.reasons).toContain(body.guardrail.failures[0]);
      expect(body.text).not.toContain(c.text(sheet.facts, sheet.private));
    }
    stub.reset();
    stub.mode = "custom";
    stub.custom = (f) => asServed(answerWith(sheet, BENIGN_ANSWERS[0]!.text(sheet.facts)), f.account_token);
    const ok = await fetch(`${srv.url}/summaries/customer`, {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({customer_id: id}),
    });
    expect(((await ok.json()) as {generator: string}).generator).toBe("llm");
  });

  it("hostile instructions are refused before a prompt exists; honest ones reach it normalised", async () => {
    const id = sheets[0]!.private.customer_id;
    stub.reset();
    const passed: string[] = [];
    for (const c of HOSTILE_INSTRUCTIONS) {
      const r = await fetch(`${srv.url}/summaries/customer`, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({customer_id: id, instructions: c.text}),
      });
      if (r.status !== 422) passed.push(`${c.kind}: ${r.status}`);
    }
    expect(passed).toEqual([]);
    expect(stub.requests).toHaveLength(0);
    for (const c of BENIGN_INSTRUCTIONS) {
      stub.reset();
      const r = await fetch(`${srv.url}/summaries/customer`, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({customer_id: id, instructions: c.text}),
      });
      expect(r.status, c.kind).toBe(200);
      const prompt = stub.requests[0]!.body.messages!.map((m) => m.content).join("\n");
      expect(prompt).toContain(c.inPrompt);
      if (c.text !== c.inPrompt) expect(prompt).not.toContain(c.text);
    }
  });
});
