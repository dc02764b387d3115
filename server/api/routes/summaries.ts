import {createRoute} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError, notFound} from "../problem.ts";
import {warehouseModelVersion} from "../queries.ts";
import {problem, SummaryRequestSchema, SummaryResponseSchema} from "../schemas.ts";
import {accountTokenFactory, loadFactSheet} from "../summaries/facts.ts";
import {promptInstructions} from "../summaries/service.ts";
import {COMMON_RESPONSES} from "./responses.ts";

/** POST /summaries/customer: a guardrailed, watermarked AI summary of one account. */
export function summaryRoutes(app: ApiApp, {config, warehouse, models, summaries}: ApiDeps): void {
  const tokenOf = accountTokenFactory(config.accountTokenSecret);
  app.openapi(
    createRoute({
      method: "post",
      path: "/summaries/customer",
      tags: ["summaries"],
      summary: "A guardrailed, watermarked AI summary of one account",
      description:
        "Built from an allow-list of aggregate facts and an opaque account token (no names, emails or phone numbers reach the model). The answer is validated and every number and name is checked against the facts; one retry, then the built-in summary (flagged). Requests that are not account summaries are refused with 422.",
      request: {body: {content: {"application/json": {schema: SummaryRequestSchema}}, required: true}},
      responses: {
        200: {
          content: {"application/json": {schema: SummaryResponseSchema}},
          description: "The summary, ending with the governance watermark",
        },
        400: problem("Malformed JSON"),
        404: problem("Unknown customer id"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Invalid or out-of-scope request"),
        ...COMMON_RESPONSES,
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
      const result = await warehouse.use(async (snap) => {
        const sheet = await loadFactSheet(snap, body.customer_id, tokenOf(body.customer_id));
        if (!sheet)
          throw notFound(`no active customer with id ${body.customer_id}`, [
            {field: "body.customer_id", message: "unknown customer id"},
          ]);
        const modelVersion = (await warehouseModelVersion(snap)) ?? models.current?.version ?? "unknown";
        return summaries.summarise(sheet, {
          dataVersion: snap.version,
          modelVersion,
          focus: body.focus,
          instructions,
          signal: c.get("abortSignal")(),
        });
      });
      return c.json(result, 200);
    },
  );
}
