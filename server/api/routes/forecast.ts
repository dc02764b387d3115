import {createRoute, z} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError} from "../problem.ts";
import {problem} from "../schemas.ts";
import {COMMON_RESPONSES} from "./responses.ts";
import {
  FORECAST_ACCURACY,
  FORECAST_ACCURACY_SUMMARY,
  FORECAST_GROUPS,
  MOVERS_PER_QUARTER,
} from "../../../loaders/forecast-tables.ts";
import {
  demoCalls,
  renewalCallView,
  UPCOMING_RENEWALS_SQL,
  type UpcomingRenewal,
} from "../../../loaders/renewal-calls.ts";
import {RENEWAL_NOTE_MAX_CHARS} from "../../../loaders/store/validate.ts";
import {RENEWAL_CALLS, StoreInputError} from "../../../loaders/store/types.ts";
import {CustomerIdParam} from "../schemas.ts";
import {invalid, notFound} from "../problem.ts";
import {cleanReason, raterOf} from "./feedback.ts";

const GROUPS = ["portfolio", ...FORECAST_GROUPS] as const;
const pct = (p: number) => String(Math.round(p * 100)).padStart(2, "0");

const Interval = z.object({
  expected: z.number(),
  median: z.number(),
  p50: z.tuple([z.number(), z.number()]).openapi({description: "the 50% interval (25th–75th percentile)"}),
  p80: z.tuple([z.number(), z.number()]).openapi({description: "the 80% interval (10th–90th percentile)"}),
  p90: z.tuple([z.number(), z.number()]).openapi({description: "the 90% interval (5th–95th percentile)"}),
});

export const ForecastQuery = z.object({
  group: z
    .enum(GROUPS, {message: `must be one of ${GROUPS.join(", ")}`})
    .default("portfolio")
    .openapi({description: "the cut: the whole portfolio (default), or by plan tier, industry, company size or CSM"}),
  movers: z.coerce
    .number({message: `must be a whole number from 0 to ${MOVERS_PER_QUARTER}`})
    .int({message: `must be a whole number from 0 to ${MOVERS_PER_QUARTER}`})
    .min(0, {message: `must be a whole number from 0 to ${MOVERS_PER_QUARTER}`})
    .max(MOVERS_PER_QUARTER, {message: `must be a whole number from 0 to ${MOVERS_PER_QUARTER}`})
    .default(10)
    .openapi({description: "accounts that move each quarter most, per quarter"}),
});

export const ForecastSchema = z
  .object({
    data: z.object({built_at: z.string(), as_of: z.string()}),
    group: z.enum(GROUPS),
    quarters: z.array(
      z.object({
        quarter: z.number().int(),
        label: z.string(),
        first_day: z.string(),
        last_day: z.string(),
        cells: z.array(
          z.object({
            group_value: z.string(),
            accounts: z.number(),
            start_arr: z.number(),
            renewals_due: z.number(),
            renewal_arr_due: z.number(),
            expected_churn_arr: z.number(),
            expected_contraction_arr: z.number(),
            expected_expansion_arr: z.number(),
            grr: Interval,
            nrr: Interval,
          }),
        ),
        movers: z.array(
          z.object({
            customer_id: z.string(),
            arr: z.number(),
            churn_probability: z.number(),
            expected_churn_arr: z.number(),
            variance_share: z.number(),
          }),
        ),
      }),
    ),
    record: z
      .object({
        summary: z
          .object({
            cells: z.number(),
            grr_coverage_50: z.number(),
            grr_coverage_80: z.number(),
            grr_coverage_90: z.number(),
            nrr_coverage_80: z.number(),
            grr_error: z.number().nullable(),
            naive_grr_error: z.number().nullable(),
            nrr_error: z.number().nullable(),
            naive_nrr_error: z.number().nullable(),
          })
          .nullable()
          .openapi({
            description:
              "over the group's cells: the share of actuals inside each interval, and the mean absolute error of the median against the naive forecast's",
          }),
        quarters: z.array(
          z.object({
            made_on: z.string(),
            quarter_label: z.string(),
            quarters_ahead: z.number(),
            group_value: z.string(),
            backfilled: z.boolean(),
            grr: Interval,
            nrr: Interval,
            actual_grr: z.number(),
            actual_nrr: z.number(),
            naive_grr: z.number().nullable(),
            naive_nrr: z.number().nullable(),
          }),
        ),
      })
      .openapi({
        description:
          "How right it was: each forecast made on a quarter's first day of a quarter that has closed, against what happened and a naive forecast (the group's rate of the year before)",
      }),
  })
  .openapi("Forecast");

type Row = Record<string, number | string>;

export const RenewalCallRequestSchema = z
  .object({
    call: z.enum(RENEWAL_CALLS, {message: `must be one of ${RENEWAL_CALLS.join(", ")}`}),
    note: z
      .string()
      .max(RENEWAL_NOTE_MAX_CHARS, {message: `may be at most ${RENEWAL_NOTE_MAX_CHARS} characters`})
      .nullish(),
  })
  .strict()
  .openapi("RenewalCallRequest");

const RenewalCallSchema = z
  .object({
    id: z.number(),
    customer_id: z.string(),
    renewal_date: z.string(),
    call: z.enum(RENEWAL_CALLS),
    note: z.string().nullable(),
    actor: z.string(),
    role: z.string(),
    at: z.string(),
  })
  .openapi("RenewalCall");

export const RenewalCallsQuery = z.object({
  quarter: z.coerce
    .number({message: "must be an outlook quarter, 1 to 4"})
    .int({message: "must be an outlook quarter, 1 to 4"})
    .min(1, {message: "must be an outlook quarter, 1 to 4"})
    .max(4, {message: "must be an outlook quarter, 1 to 4"})
    .optional(),
  owner: z.string().min(1).max(200).optional().openapi({description: "the CSM as the CRM spells them"}),
  only: z.enum(["disagreements", "due"], {message: "must be disagreements or due"}).optional().openapi({
    description: "disagreements: where the call and the model disagree; due: renewals due a call at their checkpoint",
  }),
});

const RenewalViewSchema = z
  .object({
    data: z.object({built_at: z.string(), as_of: z.string()}),
    renewals: z.array(
      z.object({
        customer_id: z.string(),
        company_name: z.string(),
        renewal_date: z.string(),
        outlook_quarter: z.number(),
        arr: z.number(),
        csm_owner: z.string().nullable(),
        churn_before_renewal: z.number(),
        call: z.enum(RENEWAL_CALLS).nullable(),
        called_by: z.string().nullable(),
        called_at: z.string().nullable(),
        disagreement: z.enum(["hopeful", "worried"]).nullable(),
        checkpoint_days: z.number().nullable(),
        call_due: z.boolean(),
      }),
    ),
  })
  .openapi("RenewalCalls");

/** GET /forecast: tonight's retention forecast (loaders/forecast.ts), as the Renewal forecast page shows it. */
export function forecastRoutes(app: ApiApp, {warehouse, store, config}: ApiDeps): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/renewals/{id}/call",
      tags: ["forecast"],
      summary: "Record a CSM's call on an account's next renewal: commit, likely, at risk or lost, with a note",
      description:
        "The call is on the account's next renewal in tonight's build. Calls are never edited: a newer call supersedes the older, and both stay on record (GET /renewals/{id}/calls). The note is stored without emails, phone numbers, links or instruction-like text. Roles csm, lead and admin may call; a read-only key may not. The forecast page shows it beside the model's view after the next build; GET /renewals/calls shows it at once.",
      request: {
        params: CustomerIdParam,
        body: {content: {"application/json": {schema: RenewalCallRequestSchema}}, required: true},
      },
      responses: {
        201: {content: {"application/json": {schema: RenewalCallSchema}}, description: "The call as stored"},
        400: problem("Malformed JSON"),
        404: problem("Unknown or inactive customer"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Invalid id, call or note"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = c.req.valid("json");
      const actor = raterOf(c.get("principal"), config.apiKeys.length > 0);
      const renewal = await warehouse.use(async (snap) =>
        snap.query<{renewal_date: string}>(
          "SELECT CAST(renewal_date AS VARCHAR) AS renewal_date FROM marts.mart_customer_risk_scores WHERE customer_id = ?",
          [id],
        ),
      );
      if (!renewal.length)
        throw notFound(`no active customer with id ${id}`, [{field: "path.id", message: "unknown customer id"}]);
      try {
        const stored = await store.recordRenewalCall(
          {
            customer_id: id,
            renewal_date: renewal[0]!.renewal_date,
            call: body.call,
            note: cleanReason(body.note, RENEWAL_NOTE_MAX_CHARS),
          },
          actor,
        );
        return c.json(stored, 201);
      } catch (e) {
        if (e instanceof StoreInputError)
          throw invalid(
            e.problems.map((p) => `body.${p.field}: ${p.message}`).join("; "),
            e.problems.map((p) => ({field: `body.${p.field}`, message: p.message})),
          );
        throw e;
      }
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/renewals/calls",
      tags: ["forecast"],
      summary:
        "The upcoming renewals with the CSMs' latest calls, the model's churn before each, and where they disagree",
      description:
        "Live: calls recorded since the build show at once. `disagreement` is hopeful (commit or likely where the model's churn before the renewal is high) or worried (at risk or lost where it is low), by config.renewalCalls; `call_due` says the renewal has passed a checkpoint review (180 and 90 days before it) without a call made since.",
      request: {query: RenewalCallsQuery},
      responses: {
        200: {
          content: {"application/json": {schema: RenewalViewSchema}},
          description: "The renewals of the four outlook quarters",
        },
        422: problem("Invalid quarter, owner or filter"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const body = await warehouse.use(async (snap) => {
        const renewals = (await snap.query<UpcomingRenewal>(UPCOMING_RENEWALS_SQL))
          .map((r) => ({...r, outlook_quarter: Number(r.outlook_quarter)}))
          .filter(
            (r) =>
              (q.quarter === undefined || r.outlook_quarter === q.quarter) &&
              (q.owner === undefined || r.csm_owner === q.owner),
          );
        const view = renewalCallView(
          renewals,
          [
            ...(await demoCalls((sql) => snap.query(sql))),
            ...(await store.latestRenewalCalls(renewals.map((r) => r.customer_id))),
          ],
          snap.info.as_of,
        );
        return {
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          renewals: view.filter((v) =>
            q.only === "disagreements" ? v.disagreement !== null : q.only === "due" ? v.call_due : true,
          ),
        };
      });
      c.header("cache-control", "no-store");
      return c.json(body as never, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/renewals/{id}/calls",
      tags: ["forecast"],
      summary: "Every call on an account's renewals, oldest first, with notes",
      request: {params: CustomerIdParam},
      responses: {
        200: {
          content: {"application/json": {schema: z.object({calls: z.array(RenewalCallSchema)})}},
          description: "The calls",
        },
        422: problem("Invalid id"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      return c.json({calls: await store.renewalCallHistory(id)}, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/forecast",
      tags: ["forecast"],
      summary: "GRR and NRR for the four quarters from the current one, with 50/80/90% intervals",
      description:
        "Quarterly gross and net revenue retention of the ARR that starts each quarter, from a Monte Carlo over accounts of the churn horizon model's probabilities (with a shared shock for accounts churning together), the expansion model and each plan tier's contraction; renewals due; the accounts that move each quarter most; and the record of closed quarters (each quarter-start forecast against what happened and a naive forecast).",
      request: {query: ForecastQuery},
      responses: {
        200: {content: {"application/json": {schema: ForecastSchema}}, description: "The forecast"},
        422: problem("Invalid group or movers"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {group, movers} = c.req.valid("query");
      const body = await warehouse.use(async (snap) => {
        let quarters: Row[];
        try {
          quarters = await snap.query<Row>(
            "SELECT quarter, label, CAST(first_day AS VARCHAR) AS first_day, CAST(last_day AS VARCHAR) AS last_day FROM marts.forecast_quarters ORDER BY quarter",
          );
          // a build of an older version has a forecast but no record of closed quarters
          await snap.query(`SELECT 1 FROM ${FORECAST_ACCURACY_SUMMARY} LIMIT 1`);
        } catch {
          throw new ApiError(
            503,
            "no-forecast",
            "No forecast",
            "this build has no retention forecast: rebuild with this version",
          );
        }
        const cells = await snap.query<Row>(
          "SELECT * FROM marts.mart_renewal_forecast WHERE group_kind = ? ORDER BY quarter, group_value",
          [group],
        );
        const top = await snap.query<Row>(
          "SELECT quarter, customer_id, arr, churn_probability, expected_churn_arr, variance_share FROM marts.mart_forecast_movers WHERE rank <= ? ORDER BY quarter, rank",
          [movers],
        );
        const interval = (r: Row, m: "grr" | "nrr") => {
          const v = (p: number) => Number(r[`${m}_p${pct(p)}`]);
          return {
            expected: Number(r[`${m}_expected`]),
            median: v(0.5),
            p50: [v(0.25), v(0.75)],
            p80: [v(0.1), v(0.9)],
            p90: [v(0.05), v(0.95)],
          };
        };
        const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        const past = await snap.query<Row>(
          `SELECT CAST(made_on AS VARCHAR) AS made_on, quarter_label, quarters_ahead, group_value, backfilled,
                  grr_expected, nrr_expected, ${["grr", "nrr"].flatMap((m) => [5, 10, 25, 50, 75, 90, 95].map((p) => `${m}_p${String(p).padStart(2, "0")}`)).join(", ")},
                  actual_grr, actual_nrr, naive_grr, naive_nrr
           FROM ${FORECAST_ACCURACY} WHERE group_kind = ? ORDER BY made_on, quarters_ahead, group_value`,
          [group],
        );
        const summary = await snap.query<Row>(
          `SELECT * FROM ${FORECAST_ACCURACY_SUMMARY} WHERE cut = ? AND value = ?`,
          ["group", group],
        );
        const sum = summary[0];
        return {
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          group,
          record: {
            summary: sum
              ? {
                  cells: Number(sum.cells),
                  grr_coverage_50: Number(sum.grr_coverage_50),
                  grr_coverage_80: Number(sum.grr_coverage_80),
                  grr_coverage_90: Number(sum.grr_coverage_90),
                  nrr_coverage_80: Number(sum.nrr_coverage_80),
                  grr_error: num(sum.grr_error),
                  naive_grr_error: num(sum.naive_grr_error),
                  nrr_error: num(sum.nrr_error),
                  naive_nrr_error: num(sum.naive_nrr_error),
                }
              : null,
            quarters: past.map((r) => ({
              made_on: String(r.made_on),
              quarter_label: String(r.quarter_label),
              quarters_ahead: Number(r.quarters_ahead),
              group_value: String(r.group_value),
              backfilled: Boolean(r.backfilled),
              grr: interval(r, "grr"),
              nrr: interval(r, "nrr"),
              actual_grr: Number(r.actual_grr),
              actual_nrr: Number(r.actual_nrr),
              naive_grr: num(r.naive_grr),
              naive_nrr: num(r.naive_nrr),
            })),
          },
          quarters: quarters.map((q) => ({
            quarter: Number(q.quarter),
            label: String(q.label),
            first_day: String(q.first_day),
            last_day: String(q.last_day),
            cells: cells
              .filter((r) => Number(r.quarter) === Number(q.quarter))
              .map((r) => ({
                group_value: String(r.group_value),
                accounts: Number(r.accounts),
                start_arr: Number(r.start_arr),
                renewals_due: Number(r.renewals_due),
                renewal_arr_due: Number(r.renewal_arr_due),
                expected_churn_arr: Number(r.expected_churn_arr),
                expected_contraction_arr: Number(r.expected_contraction_arr),
                expected_expansion_arr: Number(r.expected_expansion_arr),
                grr: interval(r, "grr"),
                nrr: interval(r, "nrr"),
              })),
            movers: top
              .filter((r) => Number(r.quarter) === Number(q.quarter))
              .map((r) => ({
                customer_id: String(r.customer_id),
                arr: Number(r.arr),
                churn_probability: Number(r.churn_probability),
                expected_churn_arr: Number(r.expected_churn_arr),
                variance_share: Number(r.variance_share),
              })),
          })),
        };
      });
      c.header("cache-control", "no-store");
      return c.json(body as never, 200);
    },
  );
}
