import {createRoute, z} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError} from "../problem.ts";
import {problem} from "../schemas.ts";
import {COMMON_RESPONSES} from "./responses.ts";
import {FORECAST_GROUPS, MOVERS_PER_QUARTER} from "../../../loaders/forecast.ts";

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
  })
  .openapi("Forecast");

type Row = Record<string, number | string>;

/** GET /forecast: tonight's retention forecast (loaders/forecast.ts), as the Renewal forecast page shows it. */
export function forecastRoutes(app: ApiApp, {warehouse}: ApiDeps): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/forecast",
      tags: ["forecast"],
      summary: "GRR and NRR for the four quarters from the current one, with 50/80/90% intervals",
      description:
        "Quarterly gross and net revenue retention of the ARR that starts each quarter, from a Monte Carlo over accounts of the churn horizon model's probabilities (with a shared shock for accounts churning together), the expansion model and each plan tier's contraction; renewals due; and the accounts that move each quarter most.",
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
        return {
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          group,
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
