import {createRoute} from "@hono/zod-openapi";
import type {Context} from "hono";
import type {ApiApp, ApiDeps, ApiEnv} from "../env.ts";
import {ApiError, notFound} from "../problem.ts";
import {warehouseModelVersion} from "../queries.ts";
import {AskRequestSchema, AskResponseSchema, problem, SummaryRequestSchema, SummaryResponseSchema} from "../schemas.ts";
import {accountTokenFactory, loadFactSheet, type FactSheet} from "../summaries/facts.ts";
import {promptInstructions} from "../summaries/service.ts";
import type {WarehouseSnapshot} from "../data.ts";
import {COMMON_RESPONSES} from "./responses.ts";

const RESPONSES = {
  400: problem("Malformed JSON"),
  404: problem("Unknown customer id"),
  413: problem("Body too large"),
  415: problem("Not JSON"),
  422: problem("Invalid or out-of-scope request"),
  ...COMMON_RESPONSES,
};

/**
 * POST /summaries/customer (a guardrailed, watermarked brief of one account, for a CSM or an
 * executive) and POST /summaries/customer/ask (a grounded answer to a question about it). Each
 * generated text is recorded in the operational store under its id, so people can rate it
 * (routes/feedback.ts) and the accuracy rate is measured.
 */
export function summaryRoutes(app: ApiApp, {config, warehouse, models, summaries, store}: ApiDeps): void {
  const tokenOf = accountTokenFactory(config.accountTokenSecret);

  /** The account's facts and the versions a result is cached under, on one pinned snapshot. */
  const withSheet = <T>(
    customerId: string,
    run: (sheet: FactSheet, v: {dataVersion: string; modelVersion: string}) => Promise<T>,
  ) =>
    warehouse.use(async (snap: WarehouseSnapshot) => {
      const sheet = await loadFactSheet(snap, customerId, tokenOf(customerId));
      if (!sheet)
        throw notFound(`no active customer with id ${customerId}`, [
          {field: "body.customer_id", message: "unknown customer id"},
        ]);
      const modelVersion = (await warehouseModelVersion(snap)) ?? models.current?.version ?? "unknown";
      return run(sheet, {dataVersion: snap.version, modelVersion});
    });

  /** A newly generated text goes into the summary log (a cached copy is the same record). */
  const record = async (
    c: Context<ApiEnv>,
    r: {
      id: string;
      customer_id: string;
      generator: "llm" | "builtin";
      flagged: boolean;
      cached: boolean;
      data_version: string;
      guardrail: {passed: boolean};
    },
    kind: "summary" | "answer",
    audience: "csm" | "executive",
  ) => {
    if (r.cached) return;
    await store.recordSummary({
      id: r.id,
      kind,
      customer_id: r.customer_id,
      audience,
      generator: r.generator,
      guardrail_passed: r.guardrail.passed,
      flagged: r.flagged,
      data_version: r.data_version,
      created_at: new Date().toISOString(),
      created_by: c.get("principal")?.name ?? "anonymous",
    });
  };

  app.openapi(
    createRoute({
      method: "post",
      path: "/summaries/customer",
      tags: ["summaries"],
      summary: "A guardrailed, watermarked brief of one account, for its CSM or for an executive",
      description:
        "Built from an allow-list of aggregate facts and an opaque account token (no names, emails or phone numbers reach the model); the answer names the account for the caller. `audience: csm` prepares the next call, `audience: executive` gives the ARR at stake, the trend and the ask. The answer is validated and every number and name is checked against the facts; one retry, then the built-in brief (flagged). Requests that are not account summaries are refused with 422. Rate it with POST /summaries/{id}/feedback.",
      request: {body: {content: {"application/json": {schema: SummaryRequestSchema}}, required: true}},
      responses: {
        200: {
          content: {"application/json": {schema: SummaryResponseSchema}},
          description: "The brief, ending with the governance watermark",
        },
        ...RESPONSES,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      let instructions: string | null = null;
      if (body.instructions?.trim()) {
        const v = promptInstructions(body.instructions);
        if (!v.ok)
          throw new ApiError(422, "out-of-scope", "Out of scope", `body.instructions ${v.message}`, [
            {field: "body.instructions", message: v.message},
          ]);
        instructions = v.text ?? null;
      }
      const result = await withSheet(body.customer_id, (sheet, versions) =>
        summaries.summarise(sheet, {
          ...versions,
          focus: body.focus,
          audience: body.audience,
          instructions,
          signal: c.get("abortSignal")(),
        }),
      );
      await record(c, result, "summary", body.audience);
      return c.json(result, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/summaries/customer/ask",
      tags: ["summaries"],
      summary: "A grounded answer to a question about one account",
      description:
        "Answers from the account's facts, support tickets (sanitised), usage and opportunities only, and cites the facts it used. A question about anything else, one carrying personal data, or one trying to instruct the assistant is refused with a clear answer (`refused: true`). With no language model configured the built-in answerer covers the common questions (why is the risk high, what changed, what is open, when is the renewal, support, usage, expansion, next steps). Same guardrails, watermark and feedback as summaries.",
      request: {body: {content: {"application/json": {schema: AskRequestSchema}}, required: true}},
      responses: {
        200: {
          content: {"application/json": {schema: AskResponseSchema}},
          description: "The answer (or the refusal), ending with the governance watermark",
        },
        ...RESPONSES,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const result = await withSheet(body.customer_id, (sheet, versions) =>
        summaries.ask(sheet, body.question, {...versions, signal: c.get("abortSignal")()}),
      );
      await record(c, result, "answer", "csm");
      return c.json(result, 200);
    },
  );
}
