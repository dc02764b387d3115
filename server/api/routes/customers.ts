import {createRoute} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps} from "../env.ts";
import {notFound} from "../problem.ts";
import {loadCustomer, loadCustomer360, loadDisagreements, warehouseModelVersion} from "../queries.ts";
import {bulkPage, filtersOf} from "../bulk.ts";
import {
  Customer360Schema,
  CustomerIdParam,
  CustomerListQuery,
  CustomerPageSchema,
  CustomerSchema,
  DisagreementQuery,
  DisagreementsSchema,
  problem,
} from "../schemas.ts";
import {COMMON_RESPONSES} from "./responses.ts";

const unknownCustomer = (id: string) =>
  notFound(`no active customer with id ${id}`, [{field: "path.id", message: "unknown customer id"}]);

/** An account as tonight's build scored it: its profile and scores, and the 360 view. */
export function customerRoutes(app: ApiApp, {warehouse}: ApiDeps): void {
  const responses = {404: problem("Unknown customer id"), 422: problem("Invalid id"), ...COMMON_RESPONSES};

  app.openapi(
    createRoute({
      method: "get",
      path: "/customers",
      tags: ["customers"],
      summary: "Every account, filtered and paged in customer_id order (for CRM syncs)",
      description:
        "Filters combine (AND). Pages follow `next_cursor` until it is null; the order is stable and a cursor belongs to one build. `changed_since` with the `data.built_at` of the last sync returns only the accounts whose tiers changed since.",
      request: {query: CustomerListQuery},
      responses: {
        200: {content: {"application/json": {schema: CustomerPageSchema}}, description: "One page of accounts"},
        409: problem("The cursor belongs to another build"),
        422: problem("Invalid filter, limit or cursor (the field is named)"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const body = await warehouse.use(async (snap) => ({
        data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
        ...(await bulkPage(snap, "customer", filtersOf(q), q.cursor, q.limit)),
      }));
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/customers/{id}",
      tags: ["customers"],
      summary: "An account's profile and current scores",
      request: {params: CustomerIdParam},
      responses: {
        200: {content: {"application/json": {schema: CustomerSchema}}, description: "The account"},
        ...responses,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = await warehouse.use(async (snap) => {
        const r = await loadCustomer(snap, id);
        if (!r) throw unknownCustomer(id);
        return {...r, data: {built_at: snap.info.built_at, as_of: snap.info.as_of}};
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/predictions/customers/{id}/360",
      tags: ["predictions"],
      summary: "Customer 360: scores, flight risk, both quadrants, drivers, action, open tickets and opportunities",
      request: {params: CustomerIdParam},
      responses: {
        200: {content: {"application/json": {schema: Customer360Schema}}, description: "The 360 view"},
        ...responses,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = await warehouse.use(async (snap) => {
        const v = await loadCustomer360(snap, id);
        if (!v) throw unknownCustomer(id);
        const {data_as_of: _asOf, ...rest} = v;
        return {
          customer_id: id,
          data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
          scored_by_model_version: await warehouseModelVersion(snap),
          ...rest,
        };
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/predictions/disagreements",
      tags: ["predictions"],
      summary:
        "The watermelon report: accounts the health score and the churn model see differently, and which view was right",
      request: {query: DisagreementQuery},
      responses: {
        200: {content: {"application/json": {schema: DisagreementsSchema}}, description: "Both views per account"},
        422: problem("Invalid query"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {type, limit} = c.req.valid("query");
      const body = await warehouse.use(async (snap) => ({
        data: {built_at: snap.info.built_at, as_of: snap.info.as_of},
        ...(await loadDisagreements(snap, type, limit)),
      }));
      return c.json(body as never, 200);
    },
  );
}
