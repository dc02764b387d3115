/**
 * Bulk reads for integrations (a CRM pulling every score): the filtered, ordered account list
 * behind `GET /customers` and `GET /predictions/batch`, its opaque cursors, and the NDJSON
 * stream of the whole list.
 *
 * Order: accounts by customer_id (JavaScript string order), always — a page boundary is then a
 * customer id, so a cursor is "after this id" and stays valid however the filters' matches are
 * spread. The order and every page are computed from the snapshot's in-memory read model
 * (queries.ts), so a page costs a binary search and a slice, not a DuckDB query.
 *
 * "Changed since a build": the warehouse keeps each account's churn probability and health
 * score (with its tier) at monthly cutoffs plus tonight (marts.mart_churn_score_history,
 * marts.mart_health_score_history), all recomputed by every build with tonight's model. A build
 * is named by its time (`data.built_at` in every answer) or a date; it resolves to the latest
 * history point on or before that date, and an account counts as changed when its model tier or
 * its health-score tier now differs from the tier it had at that point, or it had no score then
 * (a new account). The point is never after the build asked for, so a sync that passes the
 * built_at of its last pull never misses a change — it may re-send an account that changed
 * between the monthly point and that build. Probabilities alone move a little every night for
 * nearly every account; a tier is what a CRM field or a playbook acts on. Accounts that left are
 * not listed (they are no longer scored).
 */
import {createHash} from "node:crypto";
import type {RiskTier} from "../../src/rules/config.ts";
import type {WarehouseSnapshot} from "./data.ts";
import {ApiError, invalid} from "./problem.ts";
import {actionOfTier, loadReadModel, type CustomerRecord, type Driver} from "./queries.ts";

/** The filters of a validated bulk query (tiers arrive as one comma-separated value). */
export function filtersOf(q: {
  tier?: string;
  model_tier?: string;
  owner?: string;
  plan?: string;
  changed_since?: string;
}): BulkFilters {
  return {
    tier: q.tier?.split(",") as RiskTier[] | undefined,
    model_tier: q.model_tier?.split(",") as RiskTier[] | undefined,
    owner: q.owner,
    plan: q.plan,
    changed_since: q.changed_since,
  };
}

export interface BulkFilters {
  /** health-score tiers (risk_tier) */
  tier?: RiskTier[];
  /** churn-model tiers (model_tier) */
  model_tier?: RiskTier[];
  owner?: string;
  plan?: string;
  /** a build time (`data.built_at`) or a date */
  changed_since?: string;
}

/** How `changed_since` was resolved against the warehouse's score history. */
export interface ChangedSince {
  requested: string;
  /** the history point compared with: the latest on or before the requested date */
  compared_with: string;
}

/** A snapshot's accounts in customer_id order. */
interface BulkIndex {
  ids: string[];
  records: CustomerRecord[];
  drivers: (Driver[] | undefined)[];
}

/** A filtered list: positions into the index, ascending (so still in customer_id order). */
interface Selection {
  positions: Int32Array;
  changed: ChangedSince | null;
  /** identifies the filters in a cursor */
  key: string;
}

const indexes = new WeakMap<WarehouseSnapshot, Promise<BulkIndex>>();
/** filtered lists per snapshot, most recently used last; a handful is what a sync run reuses */
const selections = new WeakMap<WarehouseSnapshot, Map<string, Promise<Selection>>>();
const SELECTIONS_KEPT = 16;

async function buildIndex(snap: WarehouseSnapshot): Promise<BulkIndex> {
  const rm = await loadReadModel(snap);
  const ids = [...rm.customers.keys()];
  // the read model is filled in the mart's order; sorting 100,000 ids takes ~50 ms once per build
  let sorted = true;
  for (let i = 1; i < ids.length && sorted; i++) sorted = ids[i - 1]! < ids[i]!;
  if (!sorted) ids.sort();
  return {ids, records: ids.map((id) => rm.customers.get(id)!), drivers: ids.map((id) => rm.drivers.get(id))};
}

function bulkIndex(snap: WarehouseSnapshot): Promise<BulkIndex> {
  let p = indexes.get(snap);
  if (!p) {
    p = buildIndex(snap);
    indexes.set(snap, p);
    p.catch(() => indexes.delete(snap));
  }
  return p;
}

/** The filters as one canonical string (same filters, same string, whatever the parameter order). */
function filterKey(f: BulkFilters, changed: ChangedSince | null): string {
  return JSON.stringify([
    f.tier ? [...f.tier].sort() : null,
    f.model_tier ? [...f.model_tier].sort() : null,
    f.owner ?? null,
    f.plan?.toLowerCase() ?? null,
    changed?.compared_with ?? null,
  ]);
}

const DATE = /^(\d{4}-\d{2}-\d{2})/;

/** The calendar date a `changed_since` value names (a zone, if given, is applied; else the date as written). */
function dateOf(s: string): string | null {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(s) && s.length > 10;
  const d = hasZone ? new Date(s.replace(" ", "T")) : new Date(`${s.match(DATE)?.[1]}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString().slice(0, 10);
  // "2026-02-30" parses as March 2: refuse a date that does not exist as written
  return hasZone || iso === s.slice(0, 10) ? iso : null;
}

const changedError = (message: string) =>
  invalid(`query.changed_since: ${message}`, [{field: "query.changed_since", message}]);

/** The accounts whose tier changed since the history point on or before `requested`. */
async function changedAccounts(
  snap: WarehouseSnapshot,
  requested: string,
): Promise<{ids: Set<string>; info: ChangedSince}> {
  const date = dateOf(requested);
  if (!date) throw changedError("must be a build time (data.built_at) or a date YYYY-MM-DD that exists");
  let range: {first: string | null; last: string | null};
  try {
    range = await snap.cached("bulk:history-range", async () => {
      const [r] = await snap.query<{first: string | null; last: string | null}>(
        "SELECT CAST(min(as_of_date) AS VARCHAR) AS first, CAST(max(as_of_date) AS VARCHAR) AS last FROM marts.mart_churn_score_history",
      );
      return r ?? {first: null, last: null};
    });
  } catch {
    throw changedError("this warehouse keeps no score history (marts.mart_churn_score_history); rebuild it");
  }
  if (!range.first || !range.last) throw changedError("this warehouse's score history is empty");
  if (date < range.first)
    throw changedError(
      `the score history starts on ${range.first} (monthly points since then, and tonight's ${range.last}): ask for ${range.first} or later`,
    );
  const point = await snap.cached(`bulk:history-point:${date}`, async () => {
    const [r] = await snap.query<{d: string}>(
      "SELECT CAST(max(as_of_date) AS VARCHAR) AS d FROM marts.mart_churn_score_history WHERE as_of_date <= CAST(? AS DATE)",
      [date],
    );
    return r!.d;
  });
  const ids = await snap.cached(`bulk:changed:${point}`, async () => {
    // model tiers of the history's probabilities by cfg.model_tiers, as marts.mart_tier_stability does
    const rows = await snap.query<{customer_id: string}>(
      `WITH then_model AS (
         SELECT h.customer_id, t.tier
         FROM marts.mart_churn_score_history h ASOF JOIN cfg.model_tiers t ON h.churn_probability >= t.min_probability
         WHERE h.as_of_date = CAST($1 AS DATE)
       ),
       then_health AS (
         SELECT customer_id, risk_tier FROM marts.mart_health_score_history WHERE as_of_date = CAST($1 AS DATE)
       )
       SELECT r.customer_id
       FROM marts.mart_customer_risk_scores r
       LEFT JOIN then_model m USING (customer_id)
       LEFT JOIN then_health h USING (customer_id)
       WHERE m.tier IS DISTINCT FROM r.model_tier OR h.risk_tier IS DISTINCT FROM r.risk_tier`,
      [point],
    );
    return new Set(rows.map((r) => r.customer_id));
  });
  return {ids, info: {requested, compared_with: point}};
}

async function buildSelection(snap: WarehouseSnapshot, f: BulkFilters): Promise<Selection> {
  const index = await bulkIndex(snap);
  const changed = f.changed_since ? await changedAccounts(snap, f.changed_since) : null;
  const tiers = f.tier ? new Set<string>(f.tier) : null;
  const modelTiers = f.model_tier ? new Set<string>(f.model_tier) : null;
  const plan = f.plan?.toLowerCase() ?? null;
  const out = new Int32Array(index.ids.length);
  let n = 0;
  for (let i = 0; i < index.ids.length; i++) {
    const r = index.records[i]!;
    if (tiers && !tiers.has(r.scores.risk_tier)) continue;
    if (modelTiers && !modelTiers.has(r.scores.model_tier)) continue;
    if (f.owner !== undefined && r.profile.csm_owner !== f.owner) continue;
    // plan names are the installation's own vocabulary; "growth" finds "Growth"
    if (plan !== null && r.profile.plan_tier.toLowerCase() !== plan) continue;
    if (changed && !changed.ids.has(index.ids[i]!)) continue;
    out[n++] = i;
  }
  return {positions: out.slice(0, n), changed: changed?.info ?? null, key: filterKey(f, changed?.info ?? null)};
}

/** The filtered list, remembered per snapshot (a paging client asks for the same one page after page). */
function selection(snap: WarehouseSnapshot, f: BulkFilters): Promise<Selection> {
  let kept = selections.get(snap);
  if (!kept) selections.set(snap, (kept = new Map()));
  // keyed by the request's filters (changed_since as given); the selection's own key uses the resolved point
  const k = JSON.stringify([
    f.tier ?? null,
    f.model_tier ?? null,
    f.owner ?? null,
    f.plan ?? null,
    f.changed_since ?? null,
  ]);
  let p = kept.get(k);
  if (p) {
    kept.delete(k);
    kept.set(k, p);
    return p;
  }
  p = buildSelection(snap, f);
  kept.set(k, p);
  if (kept.size > SELECTIONS_KEPT) kept.delete(kept.keys().next().value!);
  p.catch(() => kept.get(k) === p && kept.delete(k));
  return p;
}

// ---- cursors

interface CursorBody {
  v: 1;
  /** the build the cursor was issued for (data.built_at) */
  b: string;
  /** hash of the filters */
  f: string;
  /** the last customer id of the page before */
  a: string;
}

const filterHash = (key: string) => createHash("sha256").update(key).digest("base64url").slice(0, 12);

export function encodeCursor(builtAt: string, key: string, after: string): string {
  const body: CursorBody = {v: 1, b: builtAt, f: filterHash(key), a: after};
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

const cursorError = (message: string) => invalid(`query.cursor: ${message}`, [{field: "query.cursor", message}]);

/** The customer id a cursor continues after; refuses a foreign, altered or stale cursor. */
export function decodeCursor(cursor: string, builtAt: string, key: string): string {
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<CursorBody>;
  } catch {
    throw cursorError("not a cursor this API issued: pass next_cursor back unchanged");
  }
  if (
    typeof body !== "object" ||
    body === null ||
    body.v !== 1 ||
    typeof body.b !== "string" ||
    typeof body.f !== "string" ||
    typeof body.a !== "string"
  )
    throw cursorError("not a cursor this API issued: pass next_cursor back unchanged");
  if (body.b !== builtAt)
    throw new ApiError(
      409,
      "cursor-from-another-build",
      "Cursor from another build",
      `the cursor belongs to the build of ${body.b.slice(0, 40)}, and the API now serves the build of ${builtAt}: its pages would mix two builds. Start again without a cursor — or, to fetch only what changed, with changed_since=${body.b.slice(0, 40)}`,
      [{field: "query.cursor", message: `issued for the build of ${body.b.slice(0, 40)}, not ${builtAt}`}],
    );
  if (body.f !== filterHash(key))
    throw cursorError(
      "was issued for other filters: send the same filters as for the first page, or start without a cursor",
    );
  return body.a;
}

// ---- pages and items

/** Index (into `sel.positions`) of the first account after customer id `after`. */
function startAfter(index: BulkIndex, sel: Selection, after: string | null): number {
  if (after === null) return 0;
  let lo = 0;
  let hi = sel.positions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (index.ids[sel.positions[mid]!]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface BatchItem {
  customer_id: string;
  company_name: string;
  churn_probability: number;
  model_tier: RiskTier;
  expected_arr_loss_90d: number;
  health_score: number;
  risk_tier: RiskTier;
  arr_at_risk: number;
  recommended_action: string;
  /** the model's drivers as GET /predictions/customers/{id}/360 gives them, labelled in words (src/rules/labels.ts) */
  drivers: Driver[];
}

function batchItem(r: CustomerRecord, drivers: Driver[] | undefined): BatchItem {
  const s = r.scores;
  return {
    customer_id: r.profile.customer_id,
    company_name: r.profile.company_name,
    churn_probability: s.churn_probability,
    model_tier: s.model_tier,
    expected_arr_loss_90d: s.expected_arr_loss_90d,
    health_score: s.health_score,
    risk_tier: s.risk_tier,
    arr_at_risk: s.arr_at_risk,
    recommended_action: actionOfTier(s.model_tier),
    drivers: drivers ?? [],
  };
}

export type ItemKind = "customer" | "prediction";
/** What one account is in each listing: GET /customers/{id}'s record, or its scores and drivers. */
type ItemOf<K extends ItemKind> = K extends "customer" ? CustomerRecord : BatchItem;
const itemOf = <K extends ItemKind>(kind: K, index: BulkIndex, pos: number): ItemOf<K> =>
  (kind === "customer" ? index.records[pos]! : batchItem(index.records[pos]!, index.drivers[pos])) as ItemOf<K>;

export interface Page<T> {
  items: T[];
  total: number;
  next_cursor: string | null;
  changed_since: ChangedSince | null;
}

/** One page of the filtered list after `cursor` (null: from the start). */
export async function bulkPage<K extends ItemKind>(
  snap: WarehouseSnapshot,
  kind: K,
  filters: BulkFilters,
  cursor: string | undefined,
  limit: number,
): Promise<Page<ItemOf<K>>> {
  const index = await bulkIndex(snap);
  const sel = await selection(snap, filters);
  const after = cursor === undefined ? null : decodeCursor(cursor, snap.version, sel.key);
  const start = startAfter(index, sel, after);
  const end = Math.min(start + limit, sel.positions.length);
  const items: ItemOf<K>[] = [];
  for (let k = start; k < end; k++) items.push(itemOf(kind, index, sel.positions[k]!));
  return {
    items,
    total: sel.positions.length,
    next_cursor:
      end < sel.positions.length ? encodeCursor(snap.version, sel.key, index.ids[sel.positions[end - 1]!]!) : null,
    changed_since: sel.changed,
  };
}

/** Bytes of NDJSON gathered before a chunk is handed to the socket (and the event loop gets a turn). */
const CHUNK_BYTES = 64 * 1024;

/**
 * Every account of the filtered list after `cursor`, one JSON object a line. A pull stream:
 * the next chunk is made only when the socket has taken the previous one (back-pressure), so
 * the export never holds more than a chunk or two of text, whatever the number of accounts.
 * `done` runs once, when the stream ends, fails or the client goes away (the caller releases
 * the snapshot there). A client that takes nothing for `stallMs` loses the stream: it would
 * otherwise keep a replaced build's warehouse open for as long as it cares to sit there.
 */
export async function bulkStream(
  snap: WarehouseSnapshot,
  kind: ItemKind,
  filters: BulkFilters,
  cursor: string | undefined,
  opts: {stallMs: number; done: () => void},
): Promise<{stream: ReadableStream<Uint8Array>; total: number; changed_since: ChangedSince | null}> {
  const index = await bulkIndex(snap);
  const sel = await selection(snap, filters);
  const after = cursor === undefined ? null : decodeCursor(cursor, snap.version, sel.key);
  let k = startAfter(index, sel, after);
  const encoder = new TextEncoder();
  let finished = false;
  let stall: NodeJS.Timeout | undefined;
  const finish = () => {
    clearTimeout(stall);
    if (finished) return;
    finished = true;
    opts.done();
  };
  // re-armed by every pull: it fires only while the socket takes nothing
  const arm = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    clearTimeout(stall);
    stall = setTimeout(() => {
      controller.error(new Error(`the client took no data for ${opts.stallMs} ms`));
      finish();
    }, opts.stallMs);
    stall.unref();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start: arm,
      pull(controller) {
        arm(controller);
        try {
          let text = "";
          while (k < sel.positions.length && text.length < CHUNK_BYTES)
            text += JSON.stringify(itemOf(kind, index, sel.positions[k++]!)) + "\n";
          if (text) controller.enqueue(encoder.encode(text));
          if (k >= sel.positions.length) {
            controller.close();
            finish();
          }
        } catch (e) {
          finish();
          throw e;
        }
      },
      cancel() {
        finish();
      },
    },
    // one chunk made ahead of the socket, no more
    {highWaterMark: 1},
  );
  return {stream, total: sel.positions.length, changed_since: sel.changed};
}
