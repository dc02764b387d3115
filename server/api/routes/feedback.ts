/**
 * POST /summaries/{id}/feedback: the person who read a summary or an answer says whether it was
 * accurate. One rating per person per summary (rating again replaces it), stored and audited in
 * the operational store; the accuracy rate per week, generator and audience is reported in
 * /metrics (assistant-metrics.ts) and on the Model quality page.
 */
import {createRoute} from "@hono/zod-openapi";
import {config as rules} from "../../../src/rules/config.ts";
import {StoreInputError, StoreNotFoundError, type Actor} from "../../../loaders/store/types.ts";
import {collectAssistantMetrics} from "../assistant-metrics.ts";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError, invalid, notFound} from "../problem.ts";
import {problem, SummaryFeedbackRequestSchema, SummaryFeedbackSchema, SummaryIdParam} from "../schemas.ts";
import type {Principal} from "../security.ts";
import {scanText, sanitizeFreeText} from "../summaries/pii.ts";
import {COMMON_RESPONSES} from "./responses.ts";

/**
 * Who is rating. A read-only key may not (it is an integration, not a reader of summaries). With
 * no API keys the server listens on loopback only and every caller is the same local user: the
 * rating is "anonymous", as a CSM. A person signed in by the trusted proxy rates as themself.
 */
export function raterOf(p: Principal, keysConfigured: boolean): Actor {
  if (p.role === "read")
    throw new ApiError(
      403,
      "forbidden",
      "Forbidden",
      `"${p.name}" has the read role: rating a summary needs csm, lead or admin`,
      [{field: "header.authorization", message: "role read is not enough"}],
    );
  if (!keysConfigured && p.via === "api_key") return {name: "anonymous", role: "csm", via: "api_key"};
  return {name: p.name, role: p.role, via: p.via};
}

/**
 * The reason (or a renewal call's note) as it may be stored: emails, phone numbers, links and card numbers replaced, text
 * that reads like instructions removed (pii.ts sanitizeFreeText). Personal data it does not
 * replace (an IP address, an IBAN) drops the whole reason: nothing personal is ever stored.
 */
export function cleanReason(
  reason: string | null | undefined,
  maxChars: number = rules.assistant.feedbackReasonMaxChars,
): string | null {
  if (reason === undefined || reason === null || reason.trim() === "") return null;
  const {text} = sanitizeFreeText(reason, maxChars);
  if (scanText(text).length) return "[removed: personal data]";
  return text === "" ? null : text;
}

/** The store's field names as the request spells them. */
const FIELD: Record<string, string> = {verdict: "body.verdict", reason: "body.reason", summary_id: "path.id"};

export function feedbackRoutes(app: ApiApp, {config, store, metrics, log}: ApiDeps): void {
  collectAssistantMetrics(metrics, store, log);

  app.openapi(
    createRoute({
      method: "post",
      path: "/summaries/{id}/feedback",
      tags: ["summaries"],
      summary: "Rate a summary or an answer: accurate or inaccurate, with an optional reason",
      description:
        `One rating per person per summary; rating again replaces it (both are kept in the audit log). ` +
        `The reason is stored without emails, phone numbers, links or instruction-like text. Roles csm, lead and admin may rate; ` +
        `a read-only key may not. The accuracy rate (target ${Math.round(rules.assistant.accuracyTarget * 100)}%) is in /metrics and on the Model quality page.`,
      request: {
        params: SummaryIdParam,
        body: {content: {"application/json": {schema: SummaryFeedbackRequestSchema}}, required: true},
      },
      responses: {
        201: {content: {"application/json": {schema: SummaryFeedbackSchema}}, description: "The rating as stored"},
        400: problem("Malformed JSON"),
        404: problem("Unknown summary id"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Invalid id, verdict or reason"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = c.req.valid("json");
      const actor = raterOf(c.get("principal"), config.apiKeys.length > 0);
      try {
        const stored = await store.addSummaryFeedback(
          id,
          {verdict: body.verdict, reason: cleanReason(body.reason)},
          actor,
        );
        return c.json(stored, 201);
      } catch (e) {
        if (e instanceof StoreNotFoundError)
          throw notFound(`no summary or answer with id ${id}`, [{field: "path.id", message: "unknown summary id"}]);
        if (e instanceof StoreInputError)
          throw invalid(
            e.problems.map((p) => `${FIELD[p.field] ?? p.field}: ${p.message}`).join("; "),
            e.problems.map((p) => ({field: FIELD[p.field] ?? p.field, message: p.message})),
          );
        throw e;
      }
    },
  );
}
