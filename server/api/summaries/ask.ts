/**
 * Grounded questions about one account (`POST /summaries/customer/ask`).
 *
 * A question is first read the way the summary request is (pii.ts, normalize.ts): an attempt to
 * steer the assistant, personal data, or a question about anything but this account is refused
 * with a clear answer and never reaches a model. What is left is answered
 *  - by the built-in answerer, which knows the common questions (why is the risk high, what
 *    changed, what is open, when is the renewal, what is happening in support, usage, expansion,
 *    what to do next) and writes its answer from the facts alone, citing which it used; or
 *  - by the language model, which gets the same allow-listed facts, the question fenced as
 *    untrusted data, and must answer as JSON citing the facts it used. Its answer passes the same
 *    guardrail as a summary (checkGroundedText) and must cite real facts, or it is retried once
 *    and then replaced by the built-in answer (flagged).
 */
import {z} from "zod";
import {count, listOf, withArticle} from "../../../src/components/prose.ts";
import {
  ctasPhrase,
  money,
  openTicketsPhrase,
  opportunitiesPhrase,
  recentTicketsPhrase,
  renewalPhrase,
  trendPhrase,
} from "./builtin.ts";
import {FACT_LABELS, type AccountFacts, type FactSheet} from "./facts.ts";
import {checkGroundedText, parseJsonAnswer, privateScan, type GuardrailReason} from "./guardrail.ts";
import {fold, normalizeText} from "./normalize.ts";
import {looksLikeInjection, sanitizeFreeText, scanText} from "./pii.ts";
import {ASK_SYSTEM_PROMPT, factMessages, type ChatMessage} from "./prompt.ts";
import {QUESTION_MAX} from "../schemas.ts";

type FactKey = keyof AccountFacts;

export const INTENTS = ["risk", "change", "open", "renewal", "support", "usage", "expansion", "next_steps"] as const;
export type Intent = (typeof INTENTS)[number];

/** What a question is about, by the words a CSM uses (folded text; several may match). */
const INTENT_WORDS: Record<Intent, RegExp> = {
  risk: /\b(why|reason\w*|driv\w*|cause\w*|explain\w*)\b.*\b(risk\w*|churn\w*|score\w*|health\w*|tier|red|critical|high)\b|\b(risk|churn) (driver|factor|reason)s?\b|\bat risk\b/,
  change:
    /\b(chang\w*|trend\w*|differ\w*|moved?|moving|since|last (month|week)|increas\w*|decreas\w*|drop\w*|ris(e|en|ing)|fell|fall\w*|worse|better|improv\w*|declin\w*|went (up|down))\b/,
  open: /\b(open|outstanding|pending|unresolved|in flight|to do|todo|ctas?|calls? to action)\b/,
  renewal: /\b(renew\w*|contract\w*|expir\w*|term end|due to renew)\b/,
  support: /\b(tickets?|support|surge|spike|incident\w*|bugs?|complain\w*|escalat\w*|issues?|problems?|csat)\b/,
  usage: /\b(usage|use|using|adoption|engag\w*|active|logins?|seats?|events?|activity)\b/,
  expansion: /\b(expan\w*|upsell\w*|upgrad\w*|grow\w*|opportunit\w*|pipeline|cross-?sell\w*)\b/,
  next_steps:
    /\b(what should|next steps?|recommend\w*|what (do|can) (i|we)|do next|actions?|plan|prepare|call|meeting|ebr|qbr)\b/,
};

/** Questions about something else than this account, even when they mention it. */
const ELSEWHERE =
  /\b(other (customers?|accounts?|clients?)|all (customers|accounts)|every (customer|account)|whole portfolio|portfolio|competitors?|weather|stock|bitcoin|poem|joke|story|song|recipe|translate|code|python|javascript|sql|essay|your (system )?prompt|yourself|who (made|built|are) you)\b/;
/** Requests for people's details: never in the facts, never given out. */
const PERSONAL =
  /\b(password|credit card|home address|phone numbers?|e-?mails?|e-?mail address(es)?|contact details|personal data|who is the (champion|contact|decision maker)|(names?|emails?|phone) of)\b/;

export type QuestionVerdict = {ok: true; intents: Intent[]; text: string} | {ok: false; refusal: string};

const REFUSAL_HELP =
  "I answer questions about this account only, from SaaSGuard's data: why its risk is what it is, what changed, what is open, when it renews, its support, usage and expansion, and what to do next.";

/** Is this a question about the account, and what about? (Refusals are answers, not errors.) */
export function readQuestion(question: string): QuestionVerdict {
  const text = fold(normalizeText(question).text);
  if (looksLikeInjection(question))
    return {
      ok: false,
      refusal: `I can't follow instructions given in a question; I can only answer it. ${REFUSAL_HELP}`,
    };
  if (scanText(question).length)
    return {
      ok: false,
      refusal: `Please ask without personal data (emails, phone numbers or links): I never use or give out contact details. ${REFUSAL_HELP}`,
    };
  if (PERSONAL.test(text))
    return {
      ok: false,
      refusal: `I never use or give out people's personal or contact details. ${REFUSAL_HELP}`,
    };
  if (ELSEWHERE.test(text)) return {ok: false, refusal: `That question is not about this account. ${REFUSAL_HELP}`};
  const intents = INTENTS.filter((i) => INTENT_WORDS[i].test(text));
  if (!intents.length)
    return {ok: false, refusal: `I could not tell what you want to know about this account. ${REFUSAL_HELP}`};
  return {ok: true, intents, text: sanitizeFreeText(question, QUESTION_MAX).text};
}

interface Part {
  text: string;
  cites: FactKey[];
}

/** One paragraph per intent, each citing the facts it read. */
const ANSWERS: Record<Intent, (f: AccountFacts) => Part> = {
  risk: (f) => ({
    text:
      `The churn model gives ${f.account_token} ${withArticle(`${f.churn_probability_pct}%`)} chance of churning in the next 90 days (${f.model_tier} tier)` +
      (f.model_risk_drivers.length ? `; what raises it most: ${listOf(f.model_risk_drivers)}` : "") +
      (f.model_protective_drivers.length ? `; what holds it down: ${listOf(f.model_protective_drivers)}` : "") +
      `. The health score is ${f.health_score} (${f.rule_risk_tier} risk)` +
      (f.health_score_drivers.length ? `, weakest on ${listOf(f.health_score_drivers)}` : "") +
      ".",
    cites: [
      "churn_probability_pct",
      "model_tier",
      "model_risk_drivers",
      "model_protective_drivers",
      "health_score",
      "health_score_drivers",
    ],
  }),
  change: (f) => {
    const trend = trendPhrase(f);
    const prevHealth = f.previous_score?.health_score;
    return {
      text:
        (trend
          ? `The churn probability is ${f.churn_probability_pct}%, ${trend}` +
            (prevHealth !== null && prevHealth !== undefined
              ? `; the health score is ${f.health_score} against ${prevHealth} then`
              : "") +
            ". "
          : `There is no earlier score to compare with yet; today the churn probability is ${f.churn_probability_pct}%. `) +
        `In the product: ${f.usage_trend}. In support: ${recentTicketsPhrase(f)}.`,
      cites: [
        "churn_probability_pct",
        "previous_score",
        "health_score",
        "usage_trend",
        "tickets_30d",
        "tickets_90d",
        "ticket_groups_30d",
      ],
    };
  },
  open: (f) => ({
    text: `Open right now: ${openTicketsPhrase(f)}; opportunities: ${opportunitiesPhrase(f)}; calls to action: ${ctasPhrase(f)}.`,
    cites: ["open_tickets", "open_ticket_categories", "open_opportunities", "open_ctas"],
  }),
  renewal: (f) => {
    const renewalOpp = f.open_opportunities.find((o) => o.type === "renewal");
    return {
      text:
        `${f.account_token} ${renewalPhrase(f)}, with ${money(f.arr)} ARR and ${f.churn_probability_pct}% churn probability (${f.model_tier} tier). ` +
        (renewalOpp
          ? `A renewal opportunity is open (${renewalOpp.stage.replace(/_/g, " ")}, ${money(renewalOpp.amount)}).`
          : "No renewal opportunity is open in the CRM."),
      cites: ["renewal_date", "days_to_renewal", "arr", "churn_probability_pct", "model_tier", "open_opportunities"],
    };
  },
  support: (f) => ({
    text:
      `Support: ${recentTicketsPhrase(f)}. ${openTicketsPhrase(f).replace(/^./, (c) => c.toUpperCase())} now.` +
      (f.active_risk_flags.length ? ` Risk flags: ${listOf(f.active_risk_flags)}.` : ""),
    cites: [
      "tickets_30d",
      "tickets_90d",
      "high_priority_tickets_30d",
      "ticket_groups_30d",
      "open_tickets",
      "open_ticket_categories",
      "active_risk_flags",
    ],
  }),
  usage: (f) => ({
    text:
      `Usage: ${count(f.events_last_30d, "product event")} in the last 30 days; ${f.usage_trend}.` +
      (f.active_risk_flags.length ? ` Risk flags: ${listOf(f.active_risk_flags)}.` : " No usage risk flag is active."),
    cites: ["events_last_30d", "usage_trend", "active_risk_flags"],
  }),
  expansion: (f) => ({
    text:
      `Expansion: the account sits in the ${f.quadrant} quadrant with an expansion propensity of ${f.upgrade_propensity_pct}%` +
      `${f.is_flight_risk ? " and is a flight risk, so restore its health before any upsell" : ""}; open opportunities: ${opportunitiesPhrase(f)}.`,
    cites: ["quadrant", "upgrade_propensity_pct", "is_flight_risk", "open_opportunities"],
  }),
  next_steps: (f) => ({
    text: `Recommended: ${f.recommended_action}${f.open_ctas.length ? ` Open calls to action: ${ctasPhrase(f)}.` : ""}`,
    cites: ["recommended_action", "open_ctas"],
  }),
};

export const BUILTIN_ANSWER_NOTE =
  "Answered by SaaSGuard's built-in answerer from the account facts; no language model was used.";

export function builtinAnswer(f: AccountFacts, intents: readonly Intent[]): {answer: string; cited: FactKey[]} {
  const parts = intents.slice(0, 3).map((i) => ANSWERS[i](f));
  const cited = [...new Set(parts.flatMap((p) => p.cites))];
  return {answer: parts.map((p) => p.text).join(" "), cited};
}

// ---- the language model's answer ----

export const AskAnswerSchema = z.strictObject({
  answer: z.string().min(1).max(1200),
  cited_facts: z.array(z.string()).max(20),
  out_of_scope: z.boolean(),
});

/** `response_format` for the model (mirrors AskAnswerSchema). */
export const ASK_JSON_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["answer", "cited_facts", "out_of_scope"],
  properties: {
    answer: {type: "string", maxLength: 1200},
    cited_facts: {type: "array", items: {type: "string"}, maxItems: 20},
    out_of_scope: {type: "boolean"},
  },
} as const;

export function buildAskMessages(sheet: FactSheet, question: string, retryFeedback: string | null): ChatMessage[] {
  return factMessages(
    ASK_SYSTEM_PROMPT,
    sheet,
    {open_ticket_subjects: sheet.untrusted, csm_question: question},
    `answer untrusted_data.csm_question about ${sheet.facts.account_token} from FACTS only, as the JSON object described in the rules.`,
    retryFeedback && `${retryFeedback}; cite the FACTS keys you used`,
  );
}

export type AskVerdict =
  {ok: true; answer: string; cited: FactKey[]} | {ok: false; reason: GuardrailReason | "uncited"; detail: string};

export function checkAskAnswer(content: string, sheet: FactSheet): AskVerdict {
  const parsed = parseJsonAnswer(content);
  if (!parsed.ok) return {ok: false, reason: "invalid_json", detail: "the answer is not JSON"};
  const r = AskAnswerSchema.safeParse(parsed.value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return {ok: false, reason: "schema", detail: `answer.${i.path.join(".")}: ${i.message}`};
  }
  if (r.data.out_of_scope)
    return {ok: false, reason: "out_of_scope", detail: "the model judged the question out of scope"};
  const known = r.data.cited_facts.filter((k): k is FactKey => Object.hasOwn(FACT_LABELS, k));
  if (!known.length || known.length < r.data.cited_facts.length)
    return {
      ok: false,
      reason: "uncited",
      detail: `cited_facts must name FACTS keys (got ${r.data.cited_facts.slice(0, 5).join(", ") || "none"})`,
    };
  const g = checkGroundedText(r.data.answer, sheet.facts, privateScan(sheet.private));
  return g.ok ? {ok: true, answer: r.data.answer, cited: known} : g;
}

/** The cited facts as the caller sees them: a label and the value, never a key alone. */
export function citations(f: AccountFacts, keys: readonly FactKey[]): {fact: string; label: string; value: unknown}[] {
  return keys.map((k) => ({fact: k, label: FACT_LABELS[k], value: f[k]}));
}
