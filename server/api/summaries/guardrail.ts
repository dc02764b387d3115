/**
 * The output guardrail: an LLM answer is accepted only if
 *   1. it is JSON matching `SummaryAnswerSchema` (zod),
 *   2. it leaks no PII (emails, phones, URLs, this account's private values),
 *   3. it shows no sign of obeying injected instructions,
 *   4. its risk level is the model tier of the facts,
 *   5. every number in it is one of the facts (allowing the roundings a writer would use:
 *      fewer decimals, ×100 for shares, thousands/millions with k/M), every ISO date is a fact,
 *   6. every named entity (a capitalised word inside a sentence, a snake_case identifier, an
 *      account token) is a fact value, a fact name or a word of the small domain glossary.
 * Every check reads the answer through `normalizeText` (normalize.ts) — ３７%, ٣٧%, "thirty-seven
 * percent", zero-width spaces, lookalike letters and spelled-out e-mails are what they look like —
 * and markup of any kind fails it (the answer is shown as text; a `<script>` in it is an attack).
 * Each failure has a reason label, used for `guardrail_failed_total{reason}`.
 */
import {z} from "zod";
import {RISK_TIERS} from "../../../src/rules/config.ts";
import type {AccountFacts, PrivateValues} from "./facts.ts";
import {fold, normalizeText, numbersAsDigits} from "./normalize.ts";
import {looksLikeInjection, scanText} from "./pii.ts";
import {ASK_SYSTEM_PROMPT, SYSTEM_PROMPT} from "./prompt.ts";

export const SummaryAnswerSchema = z.strictObject({
  headline: z.string().min(1).max(200),
  risk_level: z.enum(RISK_TIERS as unknown as [string, ...string[]]),
  summary: z.string().min(1).max(1500),
  key_points: z.array(z.string().min(1).max(300)).min(1).max(6),
  recommended_actions: z.array(z.string().min(1).max(300)).min(1).max(4),
  out_of_scope: z.boolean().optional(),
});
export type SummaryAnswer = z.infer<typeof SummaryAnswerSchema>;

/** JSON schema sent to the LLM as `response_format` (mirrors SummaryAnswerSchema). */
export const SUMMARY_JSON_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["headline", "risk_level", "summary", "key_points", "recommended_actions", "out_of_scope"],
  properties: {
    headline: {type: "string", maxLength: 200},
    risk_level: {type: "string", enum: [...RISK_TIERS]},
    summary: {type: "string", maxLength: 1500},
    key_points: {type: "array", items: {type: "string", maxLength: 300}, minItems: 1, maxItems: 6},
    recommended_actions: {type: "array", items: {type: "string", maxLength: 300}, minItems: 1, maxItems: 4},
    out_of_scope: {type: "boolean"},
  },
} as const;

export type GuardrailReason =
  | "invalid_json"
  | "schema"
  | "out_of_scope"
  | "pii_leak"
  | "injection"
  | "risk_mismatch"
  | "ungrounded_number"
  | "ungrounded_entity"
  | "markup";

export type GuardrailResult = {ok: true; answer: SummaryAnswer} | {ok: false; reason: GuardrailReason; detail: string};

/** Words any summary may capitalise: roles, metrics, the product, tier and quadrant words. */
const GLOSSARY = `csm csms cs ebr ebrs qbr qbrs arr mrr nrr nps csat api apis saas ai ml shap treeshap p churn customer success sales executive
business review exec sponsor account accounts saasguard ae aes vp cfo cro i ok kpi kpis roi sla slas crm usage support renewal expansion
upsell risk health score model tier tiers flight growth engine candidate stable base critical high medium low escalate escalation
onboarding adoption mature starter enterprise`;

const TOKEN_RE = /\bacct_[a-z0-9]+\b/g;
const DATE_RE = /\b\d{4}-\d{2}-\d{2}\b/g;
const NUMBER_RE = /(?<![\w.])\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s?(%|pp|k|K|m|M|bn)?(?![\w])/g;
const SNAKE_RE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g;

interface Vocabulary {
  numbers: number[];
  dates: Set<string>;
  words: Set<string>;
  identifiers: Set<string>;
  /** account tokens the facts hold (a text may name only these) */
  tokens: Set<string>;
}

function walk(
  v: unknown,
  visit: (key: string | null, value: string | number | boolean) => void,
  key: string | null = null,
): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) for (const x of v) walk(x, visit, key);
  else if (typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      visit(null, k);
      walk(x, visit, k);
    }
  else if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") visit(key, v);
}

/** Every number, date, word and identifier in `facts` (any JSON value): what a text may say. */
export function vocabularyOf(facts: unknown): Vocabulary {
  const numbers: number[] = [];
  const dates = new Set<string>();
  const words = new Set(GLOSSARY.split(/\s+/).filter(Boolean));
  const identifiers = new Set<string>();
  const tokens = new Set<string>();
  const addText = (s: string) => {
    for (const t of s.match(TOKEN_RE) ?? []) tokens.add(t);
    for (const d of s.match(DATE_RE) ?? []) dates.add(d);
    const noDates = s.replace(DATE_RE, " ");
    for (const m of noDates.matchAll(/\d+(?:\.\d+)?/g)) numbers.push(Number(m[0]));
    for (const w of s.split(/[^A-Za-z0-9_]+/)) if (w) words.add(w.toLowerCase());
    for (const w of s.split(/[^A-Za-z]+/)) if (w) words.add(w.toLowerCase());
    for (const id of s.match(SNAKE_RE) ?? []) identifiers.add(id);
  };
  walk(facts, (_k, v) => {
    if (typeof v === "number") numbers.push(v);
    else if (typeof v === "string") addText(v);
  });
  return {numbers, dates, words, identifiers, tokens};
}

function roundTo(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Is the written number `n` (with `decimals` digits after the point and a suffix) a fact? */
function grounded(n: number, decimals: number, suffix: string | undefined, facts: readonly number[]): boolean {
  const scale =
    suffix === "k" || suffix === "K" ? 1e3 : suffix === "m" || suffix === "M" ? 1e6 : suffix === "bn" ? 1e9 : 1;
  for (const a0 of facts) {
    const a = Math.abs(a0);
    const candidates = [a / scale];
    if (scale === 1 && a <= 1) candidates.push(a * 100);
    for (const c of candidates) if (roundTo(c, decimals) === n) return true;
  }
  return false;
}

/** Numbers written in `text` that are not facts (as strings, for the failure detail). */
export function ungroundedNumbers(text: string, vocab: Vocabulary): string[] {
  const bad: string[] = [];
  for (const d of text.match(DATE_RE) ?? []) if (!vocab.dates.has(d)) bad.push(d);
  const t = text.replace(DATE_RE, " ").replace(TOKEN_RE, " ").replace(SNAKE_RE, " ");
  for (const m of t.matchAll(NUMBER_RE)) {
    const intPart = m[1]!.replace(/,/g, "");
    const dec = m[2] ?? "";
    const n = Number(dec ? `${intPart}.${dec}` : intPart);
    if (!grounded(n, dec.length, m[3], vocab.numbers)) bad.push(m[0].trim());
  }
  return bad;
}

/** Named entities in `text` that are not facts or glossary words. */
export function ungroundedEntities(text: string, vocab: Vocabulary): string[] {
  const bad: string[] = [];
  for (const tok of text.match(TOKEN_RE) ?? []) if (!vocab.tokens.has(tok)) bad.push(tok);
  for (const id of text.match(SNAKE_RE) ?? []) if (!vocab.identifiers.has(id) && !vocab.words.has(id)) bad.push(id);
  // capitalised words that do not start a sentence, a list item or a clause after a colon
  const cleaned = text.replace(TOKEN_RE, " ").replace(SNAKE_RE, " ");
  const re = /[A-Za-z][A-Za-z'’&-]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cleaned))) {
    const w = m[0];
    if (!/^[A-Z]/.test(w)) continue;
    const sentenceStart =
      /(^|[.!?:;—]|\n)[\s"'“‘(\[*-]*$/.test(cleaned.slice(Math.max(0, m.index - 40), m.index)) || m.index === 0;
    // in a compound only the capitalised parts can be names ("AI-written", "Q3-review")
    const parts = w
      .split(/[-'’&]+/)
      .filter((p) => p.length > 1 && /^[A-Z]/.test(p))
      .map((p) => p.toLowerCase());
    const known = parts.every((p) => vocab.words.has(p) || vocab.words.has(p.replace(/s$/, "")));
    if (!known && !sentenceStart) bad.push(w);
  }
  return bad;
}

/** Signs of an answer that obeys injected text, or claims what it is not (matched on folded text). */
const OBEDIENCE = [
  /\bas (you )?(instructed|requested|asked)\b/,
  /\b(admin|developer|god) mode\b/,
  /\bsystem prompt\b/,
  /\bmark(ed)? (this |the )?account as (healthy|safe|low)/,
  /\b(ignore|ignoring|ignored) (all |the )?(previous|prior|above) (instructions|rules)/,
  /\bchurn risk (is |has been )?(set|reset) to\b/,
  // the facts' verdicts explained away
  /\b(tier|risk level|risk score|score|model|rating)\b[^.]{0,40}\b(can|may|should|could|is to)\s+(safely\s+)?be\s+(disregarded|ignored|overlooked|overridden|dismissed|discounted)\b/,
  /\b(disregard|ignore|override|dismiss|discount)\w*\b[^.]{0,30}\b(risk )?(tier|risk level|model|score|rules?|facts)\b/,
  // claims of human authorship (every summary is AI-written and watermarked as such)
  /\bhuman[\s-]*(verified|written|authored|reviewed|checked|approved|generated)\b/,
  /\b(this|the) (summary|answer|text|report|analysis)\b[^.]{0,20}\b(written|verified|reviewed|checked|approved|produced|prepared) by (a |an )?(human|person|people|analyst)/,
  /\bno (ai|llm|machine|model)s? (was |were |is )?(used|involved)\b/,
  /\bnot (ai|llm|machine)[\s-]*(generated|written|made)\b/,
  /\bwithout (the (use|help) of )?(ai|an llm)\b/,
];

/** Markup of any kind: HTML tags, script URLs, event handlers, entities, markdown links and images. */
const MARKUP =
  /<\s*\/?\s*[a-z!?][^>]*>|\bjavascript\s*:|\bon[a-z]+\s*=\s*["'\w]|&(#\d+|#x[0-9a-f]+|[a-z]+);|!?\[[^\]]*\]\([^)]*\)/i;

/** Runs of this many words of the system prompt in an answer mean it is being repeated. */
const ECHO_WORDS = 7;
const words = (text: string) =>
  fold(text)
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
const PROMPT_SHINGLES = new Set(
  [SYSTEM_PROMPT, ASK_SYSTEM_PROMPT].flatMap((prompt) => {
    const w = words(prompt);
    return w.slice(0, w.length - ECHO_WORDS + 1).map((_, i) => w.slice(i, i + ECHO_WORDS).join(" "));
  }),
);

/** Does the text repeat the system prompt (any casing, spacing or punctuation)? */
export function echoesSystemPrompt(text: string): boolean {
  const w = words(text);
  for (let i = 0; i + ECHO_WORDS <= w.length; i++)
    if (PROMPT_SHINGLES.has(w.slice(i, i + ECHO_WORDS).join(" "))) return true;
  return false;
}

export type GroundingResult = {ok: true} | {ok: false; reason: GuardrailReason; detail: string};

/**
 * The checks every generated text passes whatever it is about (an account summary, an answer to
 * a question, the portfolio brief): no markup, no personal data (patterns and the given private
 * values), no sign of obeying injected text or repeating the system prompt, and every number,
 * date, account token and named entity grounded in `facts` (any JSON value).
 */
export function checkGroundedText(
  input: string,
  facts: unknown,
  priv: Record<string, string | null | undefined> = {},
): GroundingResult {
  const text = normalizeText(input).text;
  if (MARKUP.test(text))
    return {ok: false, reason: "markup", detail: "the answer contains markup (HTML, script or links)"};
  const pii = scanText(text, priv);
  if (pii.length)
    return {
      ok: false,
      reason: "pii_leak",
      detail: `the answer contains ${pii.map((h) => h.what ?? h.kind).join(", ")}`,
    };
  const folded = fold(text);
  if (OBEDIENCE.some((re) => re.test(folded)) || looksLikeInjection(text) || echoesSystemPrompt(text))
    return {ok: false, reason: "injection", detail: "the answer follows or repeats injected instructions"};
  const vocab = vocabularyOf(facts);
  const numbers = ungroundedNumbers(numbersAsDigits(text), vocab);
  if (numbers.length)
    return {
      ok: false,
      reason: "ungrounded_number",
      detail: `numbers not in the facts: ${[...new Set(numbers)].slice(0, 5).join(", ")}`,
    };
  const entities = ungroundedEntities(text, vocab);
  if (entities.length)
    return {
      ok: false,
      reason: "ungrounded_entity",
      detail: `names not in the facts: ${[...new Set(entities)].slice(0, 5).join(", ")}`,
    };
  return {ok: true};
}

/** An answer's JSON body: the model may wrap it in a code fence. */
export function parseJsonAnswer(content: string): {ok: true; value: unknown} | {ok: false} {
  const body = content
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/```\s*$/, "")
    .trim();
  try {
    return {ok: true, value: JSON.parse(body)};
  } catch {
    return {ok: false};
  }
}

/** The private values of an account, as the PII scan names them. */
export const privateScan = (priv: PrivateValues) => ({
  company_name: priv.company_name,
  primary_contact_email: priv.primary_contact_email,
  csm_owner: priv.csm_owner,
  customer_id: priv.customer_id,
});

export function checkAnswer(content: string, facts: AccountFacts, priv: PrivateValues): GuardrailResult {
  const parsed = parseJsonAnswer(content);
  if (!parsed.ok) return {ok: false, reason: "invalid_json", detail: "the answer is not JSON"};
  const r = SummaryAnswerSchema.safeParse(parsed.value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return {ok: false, reason: "schema", detail: `answer.${i.path.join(".")}: ${i.message}`};
  }
  const a = r.data;
  if (a.out_of_scope)
    return {ok: false, reason: "out_of_scope", detail: "the model flagged the request as out of scope"};
  const text = [a.headline, a.summary, ...a.key_points, ...a.recommended_actions].join("\n");
  const grounded = checkGroundedText(text, facts, privateScan(priv));
  // markup, leaks and obeyed injections are the worse failures; then a wrong verdict; then grounding
  if (!grounded.ok && UNSAFE.has(grounded.reason)) return grounded;
  if (a.risk_level !== facts.model_tier)
    return {
      ok: false,
      reason: "risk_mismatch",
      detail: `risk_level "${a.risk_level}" differs from the model tier "${facts.model_tier}"`,
    };
  return grounded.ok ? {ok: true, answer: a} : grounded;
}

const UNSAFE = new Set<GuardrailReason>(["markup", "pii_leak", "injection"]);
