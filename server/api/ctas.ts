/**
 * CTAs as the API serves them: tonight's build (marts.mart_cta_history, which already applied
 * everything people had set in the operational store when the build read it) with the store's
 * later writes on top. A CTA's state is thus the build's unless a person changed it after the
 * build read the store (marts.build_info.store_read_at) — the same rule the next build applies,
 * so what a CSM sees after a write is what the next build starts from.
 *
 * The build's CTAs are loaded once per warehouse snapshot (a few thousand rows, sorted in queue
 * order); filters and cursor pagination run over that array, and only the store's recent writes
 * are read per request.
 */
import {CTA_STATUSES, type CtaState} from "../../loaders/store/types.ts";
import {config} from "../../src/rules/config.ts";
import {TimeSlicer, type WarehouseSnapshot} from "./data.ts";

/** Statuses a CTA can have: a person's (open … dismissed) or the build's 'closed' (its trigger cleared). */
export const CTA_VIEW_STATUSES = [...CTA_STATUSES, "closed"] as const;
export type CtaViewStatus = (typeof CTA_VIEW_STATUSES)[number];
/** Statuses a CSM can still act on. */
export const LIVE_STATUSES: readonly CtaViewStatus[] = ["open", "in_progress", "snoozed"];

export interface Cta {
  cta_id: string;
  customer_id: string;
  company_name: string;
  csm_owner: string | null;
  /** who works it: the assignee, else the account's CSM */
  owner: string | null;
  assignee: string | null;
  cta_type: string;
  reason: string;
  playbook_id: string;
  playbook: string | null;
  step: string | null;
  priority: string;
  priority_rank: number;
  created_date: string;
  due_date: string;
  overdue: boolean;
  status: CtaViewStatus;
  closed_date: string | null;
  snoozed_until: string | null;
  status_reason: string | null;
  first_action_date: string | null;
  detail: string | null;
  arr_at_risk: number | null;
  /** the store's version of this CTA's state (0: nobody has changed it yet); send it back as expected_version */
  version: number;
}

export interface CtaSet {
  /** in queue order: priority, due date, ARR at risk (largest first), id */
  list: Cta[];
  byId: Map<string, Cta>;
  position: Map<string, number>;
  /** when the build read the store; null when it had none */
  storeReadAt: string | null;
  asOf: string;
}

// Live CTAs and those closed within the team's review window (config.ctaWork.reportWindowDays, the
// Playbook results page's): what a CSM looks up. Holdouts are never shown.
const CTA_SQL = `
SELECT h.cta_id, h.customer_id, h.company_name, h.csm_owner, h.assignee, h.cta_type, h.reason, h.playbook_id,
       pb.playbook, q.step, h.priority, CAST(pr.priority_rank AS DOUBLE) AS priority_rank,
       CAST(h.created_date AS VARCHAR) AS created_date, CAST(h.due_date AS VARCHAR) AS due_date, h.status,
       CAST(h.closed_date AS VARCHAR) AS closed_date, CAST(h.snoozed_until AS VARCHAR) AS snoozed_until, h.status_reason,
       CAST(h.first_action_date AS VARCHAR) AS first_action_date, h.detail, CAST(h.arr_at_risk AS DOUBLE) AS arr_at_risk
FROM marts.mart_cta_history h
JOIN cfg.priorities pr USING (priority)
LEFT JOIN cfg.playbooks pb USING (playbook_id)
LEFT JOIN marts.mart_cta_queue q USING (cta_id)
WHERE NOT h.holdout AND (h.closed_date IS NULL OR h.closed_date >= (SELECT as_of FROM marts.build_info) - ${config.ctaWork.reportWindowDays})
ORDER BY pr.priority_rank, h.due_date, h.arr_at_risk DESC NULLS LAST, h.cta_id`;

async function buildCtaSet(snap: WarehouseSnapshot): Promise<CtaSet> {
  const cols = await snap.scan(CTA_SQL);
  const info = await snap.query<{store_read_at: string | null}>(
    "SELECT CAST(store_read_at AS VARCHAR) AS store_read_at FROM marts.build_info",
  );
  const slicer = new TimeSlicer();
  const list: Cta[] = [];
  const n = cols.cta_id?.length ?? 0;
  for (let i = 0; i < n; i++) {
    const v = (k: string) => cols[k]![i] as never;
    const due = v("due_date") as string;
    list.push({
      cta_id: v("cta_id"),
      customer_id: v("customer_id"),
      company_name: v("company_name"),
      csm_owner: v("csm_owner"),
      owner: (v("assignee") as string | null) ?? v("csm_owner"),
      assignee: v("assignee"),
      cta_type: v("cta_type"),
      reason: v("reason"),
      playbook_id: v("playbook_id"),
      playbook: v("playbook"),
      step: v("step"),
      priority: v("priority"),
      priority_rank: v("priority_rank"),
      created_date: v("created_date"),
      due_date: due,
      overdue: false,
      status: v("status"),
      closed_date: v("closed_date"),
      snoozed_until: v("snoozed_until"),
      status_reason: v("status_reason"),
      first_action_date: v("first_action_date"),
      detail: v("detail"),
      arr_at_risk: v("arr_at_risk"),
      version: 0,
    });
    if (i % 256 === 255) await slicer.tick();
  }
  const asOf = snap.info.as_of;
  for (const c of list) c.overdue = LIVE_STATUSES.includes(c.status) && c.due_date < asOf;
  return {
    list,
    byId: new Map(list.map((c) => [c.cta_id, c])),
    position: new Map(list.map((c, i) => [c.cta_id, i])),
    storeReadAt: info[0]?.store_read_at ? new Date(info[0].store_read_at + "Z").toISOString() : null,
    asOf,
  };
}

const ctaSets = new WeakMap<WarehouseSnapshot, Promise<CtaSet>>();

/** The snapshot's CTAs, loaded once (concurrent callers share the load). */
export function loadCtaSet(snap: WarehouseSnapshot): Promise<CtaSet> {
  let p = ctaSets.get(snap);
  if (!p) {
    p = buildCtaSet(snap);
    ctaSets.set(snap, p);
    p.catch(() => ctaSets.delete(snap));
  }
  return p;
}

/**
 * A CTA with a person's state on top: the store's state wins when it was written after the
 * build read the store (the build already applied older writes, with its own rules: an expired
 * snooze, a trigger that cleared).
 */
export function withState(cta: Cta, state: CtaState | undefined, storeReadAt: string | null, asOf: string): Cta {
  if (!state) return cta;
  const newer = storeReadAt === null || state.updated_at > storeReadAt;
  const out: Cta = {...cta, version: state.version};
  if (!newer || cta.status === "closed") return out;
  out.status = state.status;
  out.assignee = state.assignee;
  out.owner = state.assignee ?? cta.csm_owner;
  out.snoozed_until = state.status === "snoozed" ? state.snoozed_until : null;
  out.status_reason = state.status_reason;
  out.first_action_date ??= state.first_action_at?.slice(0, 10) ?? null;
  if (state.status === "done" || state.status === "dismissed") out.closed_date = state.updated_at.slice(0, 10);
  out.overdue = LIVE_STATUSES.includes(out.status) && out.due_date < asOf;
  return out;
}

/** Opaque cursor: the position after which the next page starts, bound to the snapshot's build. */
export function encodeCursor(builtAt: string, afterId: string): string {
  return Buffer.from(JSON.stringify([builtAt, afterId])).toString("base64url");
}

export function decodeCursor(cursor: string): {builtAt: string; afterId: string} | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string")
      return {builtAt: v[0], afterId: v[1]};
  } catch {
    // fall through
  }
  return null;
}
