import {createRoute, z} from "@hono/zod-openapi";
import {config} from "../../../src/rules/config.ts";
import {PRIORITIES} from "../../../src/rules/playbooks.ts";
import {CTA_STATUSES, StoreConflictError, StoreInputError} from "../../../loaders/store/index.ts";
import type {Actor, AuditEntry, CtaChange} from "../../../loaders/store/types.ts";
import {
  CTA_VIEW_STATUSES,
  decodeCursor,
  encodeCursor,
  LIVE_STATUSES,
  loadCtaSet,
  withState,
  type Cta,
  type CtaSet,
} from "../ctas.ts";
import type {ApiApp, ApiDeps} from "../env.ts";
import {ApiError, badRequest, invalid, notFound} from "../problem.ts";
import type {Principal} from "../security.ts";
import {problem} from "../schemas.ts";
import {COMMON_RESPONSES} from "./responses.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (s: string) => DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
const list = <T extends string>(values: readonly T[], what: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const out = s.split(",").map((x) => x.trim());
      for (const v of out)
        if (!(values as readonly string[]).includes(v)) {
          ctx.addIssue({code: "custom", message: `"${v.slice(0, 40)}" is not a ${what}: use ${values.join(", ")}`});
          return z.NEVER;
        }
      return out as T[];
    })
    .openapi({type: "string", description: `comma-separated: ${values.join(", ")}`});

export const CtaListQuery = z.object({
  owner: z
    .string()
    .trim()
    .min(1)
    .max(120)
    .optional()
    .openapi({description: "the CSM working the CTA (assignee, else the account's CSM); `me` is the caller"}),
  status: list(CTA_VIEW_STATUSES, "CTA status")
    .optional()
    .openapi({description: "default: open,in_progress (the queue). Holdouts are never listed."}),
  priority: list(PRIORITIES, "priority").optional(),
  due_before: z
    .string()
    .refine(isDate, {message: "must be a date YYYY-MM-DD"})
    .optional()
    .openapi({description: "only CTAs due on or before this date"}),
  account: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, {message: "must be a customer id: 1–64 letters, digits, _ or -"})
    .optional(),
  cursor: z.string().max(400).optional().openapi({description: "`next_cursor` of the previous page"}),
  limit: z.coerce
    .number({message: "must be a whole number from 1 to 500"})
    .int({message: "must be a whole number from 1 to 500"})
    .min(1, {message: "must be a whole number from 1 to 500"})
    .max(500, {message: "must be a whole number from 1 to 500"})
    .default(50),
});

const CtaIdParam = z.object({
  id: z
    .string()
    .regex(/^[0-9a-f]{32}$/, {message: "must be a CTA id (32 hexadecimal characters)"})
    .openapi({param: {name: "id", in: "path"}, example: "0f3c9a2d4b5e6f708192a3b4c5d6e7f8"}),
});

const CtaSchema = z
  .object({
    cta_id: z.string(),
    customer_id: z.string(),
    company_name: z.string(),
    csm_owner: z.string().nullable(),
    owner: z.string().nullable(),
    assignee: z.string().nullable(),
    cta_type: z.string(),
    reason: z.string(),
    playbook_id: z.string(),
    playbook: z.string().nullable(),
    step: z.string().nullable(),
    priority: z.string(),
    priority_rank: z.number(),
    created_date: z.string(),
    due_date: z.string(),
    overdue: z.boolean(),
    status: z.enum(CTA_VIEW_STATUSES),
    closed_date: z.string().nullable(),
    snoozed_until: z.string().nullable(),
    status_reason: z.string().nullable(),
    first_action_date: z.string().nullable(),
    detail: z.string().nullable(),
    arr_at_risk: z.number().nullable(),
    version: z.number().int().openapi({description: "send back as expected_version to refuse a lost update"}),
  })
  .openapi("Cta");

const DataInfo = z.object({built_at: z.string(), as_of: z.string()});

const CtaPage = z
  .object({data: DataInfo, items: z.array(CtaSchema), next_cursor: z.string().nullable(), total: z.number().int()})
  .openapi("CtaPage");

export const CtaPatchBody = z
  .object({
    status: z.enum(CTA_STATUSES, {message: `must be one of ${CTA_STATUSES.join(", ")}`}).optional(),
    snoozed_until: z
      .string()
      .refine(isDate, {message: "must be a date YYYY-MM-DD"})
      .optional()
      .openapi({description: "with status snoozed: the CTA comes back on this date"}),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .openapi({description: `snooze: why (free text); dismiss: one of ${config.ctaWork.dismissReasons.join(", ")}`}),
    note: z.string().trim().min(1).max(config.ctaWork.noteMaxChars).optional(),
    assignee: z.string().trim().min(1).max(120).nullable().optional().openapi({
      description: "reassign (lead role): a CSM's name, or null for the account's CSM",
    }),
    expected_version: z.number().int().min(0).optional().openapi({
      description: "the `version` you read: the write is refused with 409 if someone changed the CTA since",
    }),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== "expected_version"), {
    message: "nothing to change: send status, note or assignee",
  })
  .openapi("CtaPatch");

const TimelineSchema = z
  .object({
    cta_id: z.string(),
    entries: z.array(
      z.object({
        at: z.string(),
        kind: z.enum(["raised", "status", "note", "assign", "closed"]),
        actor: z.string(),
        detail: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .openapi("CtaTimeline");

const CsmParam = z.object({
  csm: z
    .string()
    .trim()
    .min(1)
    .max(120)
    .openapi({
      param: {name: "csm", in: "path"},
      example: "Kendall Carter",
      description: "the CSM's name as account owners are spelled",
    }),
});

const CapacityBody = z
  .object({
    // the range is the store's to check (loaders/store/validate.ts), one rule for the API and the CLI
    hours_per_week: z.number({message: "must be a number of hours, or null for the default"}).nullable(),
  })
  .strict()
  .openapi("CapacityChange");

const CapacityList = z
  .object({
    default_hours_per_week: z.number(),
    overrides: z.array(
      z.object({csm: z.string(), hours_per_week: z.number(), updated_at: z.string(), updated_by: z.string()}),
    ),
  })
  .openapi("Capacity");

/**
 * The store's refusals as the API's problems: bad values are 422 naming the body field (the
 * store's `status_reason` is the body's `reason`), a stale version is 409; anything else is as it was.
 */
function asProblem(e: unknown): unknown {
  if (e instanceof StoreInputError)
    return invalid(
      e.problems.map((p) => `${p.field}: ${p.message}`).join("; "),
      e.problems.map((p) => ({field: `body.${p.field === "status_reason" ? "reason" : p.field}`, message: p.message})),
    );
  if (e instanceof StoreConflictError) return new ApiError(409, "conflict", "Conflict", e.message);
  return e;
}

/** Who is acting, for the store's audit log. */
function actorOf(p: Principal): Actor {
  return {name: p.name, role: p.role === "read" ? "csm" : p.role, via: p.via};
}

/**
 * Who may change what: a read-only key nothing; a CSM only CTAs they work or whose account they
 * own, and not who works them; a lead or an admin anything.
 */
function authorize(p: Principal, cta: Cta, change: CtaChange): void {
  if (p.role === "read")
    throw new ApiError(
      403,
      "forbidden",
      "Forbidden",
      `"${p.name}" has the read role: changing a CTA needs csm or lead`,
    );
  if (p.role === "csm") {
    if (cta.owner !== p.name && cta.csm_owner !== p.name)
      throw new ApiError(
        403,
        "forbidden",
        "Forbidden",
        `this CTA is worked by ${cta.owner ?? "nobody"}: a CSM may change only CTAs of accounts they own or are assigned`,
      );
    if (change.assignee !== undefined)
      throw new ApiError(403, "forbidden", "Forbidden", "only a lead may reassign a CTA", [
        {field: "body.assignee", message: "needs the lead role"},
      ]);
  }
}

export function ctaRoutes(app: ApiApp, {warehouse, store}: ApiDeps): void {
  const withCtas = <R>(fn: (set: CtaSet, builtAt: string, asOf: string) => Promise<R>) =>
    warehouse.use(async (snap) => fn(await loadCtaSet(snap), snap.info.built_at, snap.info.as_of));

  app.openapi(
    createRoute({
      method: "get",
      path: "/ctas",
      tags: ["ctas"],
      summary: "Calls to action, in queue order, with their live state",
      request: {query: CtaListQuery},
      responses: {
        200: {content: {"application/json": {schema: CtaPage}}, description: "A page of CTAs"},
        400: problem("Cursor from another build"),
        422: problem("Invalid query"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const owner = q.owner === "me" ? c.get("principal")?.name : q.owner;
      const statuses = new Set<string>(q.status ?? ["open", "in_progress"]);
      const priorities = q.priority ? new Set<string>(q.priority) : null;
      const body = await withCtas(async (set, builtAt, asOf) => {
        const recent = new Map((await store.ctaStatesChangedSince(set.storeReadAt)).map((s) => [s.cta_id, s]));
        let start = 0;
        if (q.cursor) {
          const cur = decodeCursor(q.cursor);
          const at = cur ? set.position.get(cur.afterId) : undefined;
          if (at === undefined)
            throw badRequest("the cursor is not valid for this build: start again without it", [
              {field: "query.cursor", message: "unknown or expired cursor"},
            ]);
          start = at + 1;
        }
        const match = (cta: Cta) =>
          statuses.has(cta.status) &&
          (owner === undefined || cta.owner === owner) &&
          (!priorities || priorities.has(cta.priority)) &&
          (!q.due_before || cta.due_date <= q.due_before) &&
          (!q.account || cta.customer_id === q.account);
        const items: Cta[] = [];
        let total = 0;
        let more = false;
        for (let i = 0; i < set.list.length; i++) {
          const cta = withState(set.list[i]!, recent.get(set.list[i]!.cta_id), set.storeReadAt, asOf);
          if (!match(cta)) continue;
          total++;
          if (i < start) continue;
          if (items.length < q.limit) items.push(cta);
          else more = true;
        }
        // versions of the CTAs on the page, so a client can send expected_version back
        const versions = new Map((await store.ctaStates(items.map((i) => i.cta_id))).map((s) => [s.cta_id, s.version]));
        for (const it of items) it.version = versions.get(it.cta_id) ?? 0;
        return {
          data: {built_at: builtAt, as_of: asOf},
          items,
          next_cursor: more ? encodeCursor(builtAt, items.at(-1)!.cta_id) : null,
          total,
        };
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/ctas/{id}",
      tags: ["ctas"],
      summary:
        "Work a CTA: status (in progress, done, snoozed until a date, dismissed with a reason), a note, reassignment",
      request: {
        params: CtaIdParam,
        body: {content: {"application/json": {schema: CtaPatchBody}}, required: true},
      },
      responses: {
        200: {content: {"application/json": {schema: CtaSchema}}, description: "The CTA after the change"},
        404: problem("Unknown CTA"),
        409: problem("The CTA is closed, or changed since the version you read"),
        422: problem("Invalid change"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const b = c.req.valid("json");
      const principal = c.get("principal");
      const body = await withCtas(async (set, _builtAt, asOf) => {
        const base = set.byId.get(id);
        if (!base) throw notFound(`no CTA ${id} in tonight's build`, [{field: "path.id", message: "unknown CTA id"}]);
        const [state] = await store.ctaStates([id]);
        const cta = withState(base, state, set.storeReadAt, asOf);
        if (!LIVE_STATUSES.includes(cta.status))
          throw new ApiError(409, "conflict", "Conflict", `CTA ${id} is ${cta.status}: it can no longer be changed`);
        const change: CtaChange = {
          status: b.status,
          snoozed_until: b.snoozed_until,
          status_reason: b.reason,
          note: b.note,
          assignee: b.assignee,
          priority_rank: cta.priority_rank,
          expected_version: b.expected_version,
        };
        for (const k of Object.keys(change) as (keyof CtaChange)[]) if (change[k] === undefined) delete change[k];
        authorize(principal, cta, change);
        try {
          const r = await store.applyCtaChange(id, change, actorOf(principal));
          return withState(base, r.state, set.storeReadAt, asOf);
        } catch (e) {
          throw asProblem(e);
        }
      });
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/capacity",
      tags: ["ctas"],
      summary: "The CSMs' weekly capacity overrides (the config's hours apply to everyone else)",
      responses: {
        200: {content: {"application/json": {schema: CapacityList}}, description: "Overrides, by CSM"},
        ...COMMON_RESPONSES,
      },
    }),
    async (c) =>
      c.json(
        {default_hours_per_week: config.capacity.defaultHoursPerWeek, overrides: await store.capacityOverrides()},
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/capacity/{csm}",
      tags: ["ctas"],
      summary: "Set a CSM's weekly hours for CTA work (lead role); null returns them to the config's default",
      request: {params: CsmParam, body: {content: {"application/json": {schema: CapacityBody}}, required: true}},
      responses: {
        200: {content: {"application/json": {schema: CapacityList}}, description: "The overrides after the change"},
        422: problem("Invalid hours"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {csm} = c.req.valid("param");
      const {hours_per_week} = c.req.valid("json");
      const p = c.get("principal");
      if (p.role !== "lead" && p.role !== "admin")
        throw new ApiError(403, "forbidden", "Forbidden", "only a lead may change a CSM's capacity");
      try {
        await store.setCapacity(csm, hours_per_week, actorOf(p));
      } catch (e) {
        throw asProblem(e);
      }
      return c.json(
        {default_hours_per_week: config.capacity.defaultHoursPerWeek, overrides: await store.capacityOverrides()},
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/ctas/{id}/timeline",
      tags: ["ctas"],
      summary: "A CTA's timeline: raised, every status change, note and reassignment (who and when), closed",
      request: {params: CtaIdParam},
      responses: {
        200: {content: {"application/json": {schema: TimelineSchema}}, description: "Oldest first"},
        404: problem("Unknown CTA"),
        422: problem("Invalid id"),
        ...COMMON_RESPONSES,
      },
    }),
    async (c) => {
      const {id} = c.req.valid("param");
      const body = await withCtas(async (set) => {
        const cta = set.byId.get(id);
        if (!cta) throw notFound(`no CTA ${id} in tonight's build`, [{field: "path.id", message: "unknown CTA id"}]);
        const entries: {
          at: string;
          kind: "raised" | "status" | "note" | "assign" | "closed";
          actor: string;
          detail: Record<string, unknown>;
        }[] = [
          {
            at: cta.created_date,
            kind: "raised",
            actor: "nightly build",
            detail: {priority: cta.priority, detail: cta.detail},
          },
          ...(await store.timeline(id)).map((a: AuditEntry) => ({
            at: a.at,
            // a CTA's timeline holds only CTA actions (store.timeline reads entity "cta")
            kind: a.action === "capacity" || a.action === "feedback" ? ("status" as const) : a.action,
            actor: a.actor,
            detail: a.detail,
          })),
        ];
        if (cta.status === "closed" && cta.closed_date)
          entries.push({
            at: cta.closed_date,
            kind: "closed",
            actor: "nightly build",
            detail: {why: "its trigger no longer fires"},
          });
        return {cta_id: id, entries};
      });
      return c.json(body, 200);
    },
  );
}
