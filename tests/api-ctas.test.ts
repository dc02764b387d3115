/**
 * Working CTAs through the API over real HTTP: GET /ctas (filters, cursor pagination),
 * PATCH /ctas/{id} (every change and every bad input), GET /ctas/{id}/timeline, who may do what
 * (API key roles, people from a trusted proxy, every denied case), and writes during a nightly
 * build: none is lost, the API shows them at once and the next build applies them.
 */
import {cpSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {config} from "../src/rules/config.ts";
import {build} from "../loaders/build.ts";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {newApiKey} from "../server/api/security.ts";
import {loadApiConfig} from "../server/api/settings.ts";
import {startTestApi} from "./helpers/test-api.ts";
import {ensureTestWarehouse, TEST_CUSTOMERS, TEST_WAREHOUSE_AS_OF} from "./helpers/test-warehouse.ts";

type Json = Record<string, unknown>;
interface Cta {
  cta_id: string;
  customer_id: string;
  owner: string | null;
  csm_owner: string | null;
  priority: string;
  priority_rank: number;
  due_date: string;
  status: string;
  version: number;
  arr_at_risk: number | null;
}

let root: string;
let warehousePath: string;
let modelsDir: string;
let srv: ApiServer;

async function req(
  url: string,
  init: {method?: string; body?: unknown; headers?: Record<string, string>} = {},
): Promise<{status: number; body: Json; type: string}> {
  const r = await fetch(url, {
    method: init.method ?? "GET",
    headers: {...(init.body !== undefined ? {"content-type": "application/json"} : {}), ...init.headers},
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await r.text();
  return {status: r.status, body: text ? (JSON.parse(text) as Json) : {}, type: r.headers.get("content-type") ?? ""};
}
const patch = (id: string, body: unknown, headers?: Record<string, string>) =>
  req(`${srv.url}/ctas/${id}`, {method: "PATCH", body, headers});

async function everyCta(base: string, query = "", headers?: Record<string, string>): Promise<Cta[]> {
  const out: Cta[] = [];
  let cursor: string | null = null;
  do {
    const r = await req(`${base}/ctas?limit=37${query}${cursor ? `&cursor=${cursor}` : ""}`, {headers});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    out.push(...(r.body.items as Cta[]));
    cursor = r.body.next_cursor as string | null;
  } while (cursor);
  return out;
}

beforeAll(async () => {
  const source = await ensureTestWarehouse();
  root = mkdtempSync(join(tmpdir(), "saasguard-api-ctas-"));
  warehousePath = join(root, "warehouse.duckdb");
  cpSync(source, warehousePath);
  modelsDir = join(dirname(source), "models");
  srv = await startTestApi({warehousePath, modelsDir, store: `sqlite:${join(root, "ops.sqlite")}`});
}, 600_000);
afterAll(async () => {
  await srv?.close();
  rmSync(root, {recursive: true, force: true});
});

describe("GET /ctas", () => {
  it("lists the queue in priority order with cursor pagination: every open CTA exactly once, holdouts never", async () => {
    const listed = await everyCta(srv.url);
    const w = await openWarehouse(warehousePath, {readOnly: true});
    const queue = await all<{cta_id: string}>(w.conn, "SELECT cta_id FROM marts.mart_cta_queue");
    const held = await all<{cta_id: string}>(w.conn, "SELECT cta_id FROM marts.mart_cta_history WHERE holdout");
    w.close();
    expect(listed.length).toBeGreaterThan(50);
    expect(new Set(listed.map((c) => c.cta_id))).toEqual(new Set(queue.map((q) => q.cta_id)));
    expect(new Set(listed.map((c) => c.cta_id)).size).toBe(listed.length);
    expect(held.length).toBeGreaterThan(0);
    const ids = new Set(listed.map((c) => c.cta_id));
    for (const h of held) expect(ids.has(h.cta_id)).toBe(false);
    const ranks = listed.map((c) => c.priority_rank);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const c of listed) expect(["open", "in_progress"]).toContain(c.status);
  });

  it("filters by owner, priority, due date and account", async () => {
    const all = await everyCta(srv.url);
    const owner = all[0]!.owner!;
    const mine = await everyCta(srv.url, `&owner=${encodeURIComponent(owner)}`);
    expect(mine.length).toBe(all.filter((c) => c.owner === owner).length);
    const high = await everyCta(srv.url, "&priority=critical,high");
    expect(high.every((c) => ["critical", "high"].includes(c.priority))).toBe(true);
    expect(high.length).toBe(all.filter((c) => ["critical", "high"].includes(c.priority)).length);
    const due = all[Math.floor(all.length / 2)]!.due_date;
    const soon = await everyCta(srv.url, `&due_before=${due}`);
    expect(soon.length).toBe(all.filter((c) => c.due_date <= due).length);
    const acct = await everyCta(srv.url, `&account=${all[0]!.customer_id}`);
    expect(acct.length).toBe(all.filter((c) => c.customer_id === all[0]!.customer_id).length);
  });

  it("refuses bad queries with problem+json naming the parameter", async () => {
    for (const [q, field, status] of [
      ["status=bogus", "query.status", 422],
      ["priority=urgent", "query.priority", 422],
      ["limit=0", "query.limit", 422],
      ["limit=501", "query.limit", 422],
      ["due_before=2026-13-45", "query.due_before", 422],
      ["account=a%20b", "query.account", 422],
      ["cursor=not-a-cursor", "query.cursor", 400],
    ] as const) {
      const r = await req(`${srv.url}/ctas?${q}`);
      expect(r.status, q).toBe(status);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect((r.body.errors as {field: string}[])[0]!.field, q).toBe(field);
    }
  });
});

describe("PATCH /ctas/{id} and the timeline", () => {
  let ctas: Cta[] = [];
  beforeAll(async () => {
    ctas = await everyCta(srv.url);
  });

  it("starts, notes, snoozes and completes a CTA; GET shows the live state and the timeline who did what", async () => {
    const id = ctas[0]!.cta_id;
    let r = await patch(id, {status: "in_progress"});
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect([r.body.status, r.body.version]).toEqual(["in_progress", 1]);
    r = await patch(id, {note: "Called the sponsor; QBR booked", expected_version: 1});
    expect(r.status).toBe(200);
    const listed = (await everyCta(srv.url)).find((c) => c.cta_id === id)!;
    expect([listed.status, listed.version]).toEqual(["in_progress", 2]);
    const t = await req(`${srv.url}/ctas/${id}/timeline`);
    expect(t.status).toBe(200);
    const entries = t.body.entries as {kind: string; actor: string; detail: Json}[];
    expect(entries.map((e) => e.kind)).toEqual(["raised", "status", "note"]);
    expect(entries[2]!.detail.text).toBe("Called the sponsor; QBR booked");
    expect(entries[1]!.actor).toBe("local");

    const other = ctas[1]!.cta_id;
    const until = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    r = await patch(other, {status: "snoozed", snoozed_until: until, reason: "customer on leave"});
    expect([r.status, r.body.status, r.body.snoozed_until]).toEqual([200, "snoozed", until]);
    expect((await everyCta(srv.url)).some((c) => c.cta_id === other)).toBe(false); // out of the queue
    expect((await everyCta(srv.url, "&status=snoozed")).map((c) => c.cta_id)).toContain(other);

    r = await patch(id, {status: "done"});
    expect(r.body.status).toBe("done");
    r = await patch(id, {note: "too late"});
    expect(r.status).toBe(409); // done is final
  });

  it("refuses a lost update: expected_version older than the store's", async () => {
    const id = ctas[2]!.cta_id;
    expect((await patch(id, {note: "first"})).status).toBe(200);
    const r = await patch(id, {note: "second", expected_version: 0});
    expect(r.status).toBe(409);
    expect(r.type).toMatch(/problem\+json/);
  });

  it("refuses every bad change with 422 naming the field, and unknown ids with 404", async () => {
    const id = ctas[3]!.cta_id;
    const past = "2020-01-01";
    const far = new Date(Date.now() + (config.ctaWork.snoozeMaxDays + 5) * 86_400_000).toISOString().slice(0, 10);
    for (const [body, field] of [
      [{}, "body"],
      [{status: "archived"}, "body.status"],
      [{status: "snoozed"}, "body.snoozed_until"],
      [{status: "snoozed", snoozed_until: past, reason: "x"}, "body.snoozed_until"],
      [{status: "snoozed", snoozed_until: far, reason: "x"}, "body.snoozed_until"],
      [{status: "snoozed", snoozed_until: "tomorrow", reason: "x"}, "body.snoozed_until"],
      [{status: "dismissed"}, "body.reason"],
      [{status: "dismissed", reason: "meh"}, "body.reason"],
      [{note: "x".repeat(config.ctaWork.noteMaxChars + 1)}, "body.note"],
      [{note: "hi", colour: "red"}, "body"],
      [{expected_version: -1, note: "x"}, "body.expected_version"],
    ] as const) {
      const r = await patch(id, body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.type).toMatch(/problem\+json/);
      expect(
        (r.body.errors as {field: string}[]).map((e) => e.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    expect((await patch(id, "{not json")).status).toBe(400);
    expect((await patch("0".repeat(32), {note: "x"})).status).toBe(404);
    expect((await patch("nope", {note: "x"})).status).toBe(422);
    expect((await req(`${srv.url}/ctas/${"0".repeat(32)}/timeline`)).status).toBe(404);
    // nothing was written by the refused changes
    const t = await req(`${srv.url}/ctas/${id}/timeline`);
    expect((t.body.entries as unknown[]).length).toBe(1);
  });
});

describe("who may change what", () => {
  let keyed: ApiServer;
  const read = newApiKey("crm-sync", "read");
  const lead = newApiKey("cs-lead", "lead");
  const admin = newApiKey("ops", "admin");
  let ctas: Cta[] = [];
  const bearer = (k: {key: string}) => ({authorization: `Bearer ${k.key}`});
  const person = (name: string, role?: string) => ({
    ...bearer(read),
    "x-forwarded-user": name,
    ...(role ? {"x-forwarded-role": role} : {}),
  });
  beforeAll(async () => {
    keyed = await startTestApi({
      warehousePath,
      modelsDir,
      apiKeys: loadApiConfig({API_KEYS: [read.entry, lead.entry, admin.entry].join(",")}).apiKeys,
      identityProxy: {addresses: ["127.0.0.1"], userHeader: "x-forwarded-user", roleHeader: "x-forwarded-role"},
      rateLimitPerMinute: 100_000,
      rateLimitBurst: 10_000,
    });
    ctas = await everyCta(keyed.url, "", bearer(read));
  });
  afterAll(() => keyed?.close());
  const p = (id: string, body: unknown, headers: Record<string, string>) =>
    req(`${keyed.url}/ctas/${id}`, {method: "PATCH", body, headers});

  it("a read key can list but not change; no key is 401", async () => {
    expect((await req(`${keyed.url}/ctas`)).status).toBe(401);
    expect((await p(ctas[0]!.cta_id, {note: "x"}, {})).status).toBe(401);
    const r = await p(ctas[0]!.cta_id, {note: "x"}, bearer(read));
    expect(r.status).toBe(403);
  });

  it("a CSM changes only CTAs they work, never reassigns; a lead reassigns; an admin key may do anything", async () => {
    const cta = ctas.find((c) => c.owner)!;
    const owner = cta.owner!;
    const notMine = ctas.find((c) => c.owner !== owner && c.csm_owner !== owner)!;
    expect((await p(cta.cta_id, {note: "mine"}, person(owner))).status).toBe(200);
    const denied = await p(notMine.cta_id, {note: "not mine"}, person(owner));
    expect(denied.status).toBe(403);
    expect(String(denied.body.detail)).toMatch(/accounts they own or are assigned/);
    expect((await p(cta.cta_id, {assignee: "Someone Else"}, person(owner))).status).toBe(403);
    // the owner=me filter is the caller's queue
    const mine = await everyCta(keyed.url, "&owner=me", person(owner));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((c) => c.owner === owner)).toBe(true);
    // a lead moves it to another CSM, who may then work it; the old owner still owns the account
    const to = notMine.owner!;
    const moved = await p(cta.cta_id, {assignee: to}, person("Lena Lead", "lead"));
    expect([moved.status, moved.body.owner]).toEqual([200, to]);
    expect((await p(cta.cta_id, {note: "picked up"}, person(to))).status).toBe(200);
    expect((await p(notMine.cta_id, {note: "admin"}, bearer(admin))).status).toBe(200);
    expect((await p(notMine.cta_id, {assignee: null}, bearer(lead))).status).toBe(200);
    const t = await req(`${keyed.url}/ctas/${cta.cta_id}/timeline`, {headers: bearer(read)});
    const actors = (t.body.entries as {actor: string}[]).map((e) => e.actor);
    expect(actors).toEqual(["nightly build", owner, "Lena Lead", to]);
  });

  it("a lead sets a CSM's weekly capacity; a CSM or a read key may not; bad hours are 422", async () => {
    const put = (csm: string, body: unknown, headers: Record<string, string>) =>
      req(`${keyed.url}/capacity/${encodeURIComponent(csm)}`, {method: "PUT", body, headers});
    expect((await put("Kendall Carter", {hours_per_week: 20}, person("Kendall Carter"))).status).toBe(403);
    expect((await put("Kendall Carter", {hours_per_week: 20}, bearer(read))).status).toBe(403);
    const ok = await put("Kendall Carter", {hours_per_week: 20}, person("Lena Lead", "lead"));
    expect(ok.status).toBe(200);
    expect(ok.body.overrides).toEqual([
      expect.objectContaining({csm: "Kendall Carter", hours_per_week: 20, updated_by: "Lena Lead"}),
    ]);
    for (const body of [
      {hours_per_week: -1},
      {hours_per_week: 500},
      {hours_per_week: "ten"},
      {},
      {hours_per_week: 5, x: 1},
    ]) {
      const r = await put("Kendall Carter", body, bearer(lead));
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect((r.body.errors as {field: string}[])[0]!.field).toMatch(/^body/);
    }
    const back = await put("Kendall Carter", {hours_per_week: null}, bearer(lead));
    expect(back.body.overrides).toEqual([]);
    expect((await req(`${keyed.url}/capacity`, {headers: bearer(read)})).body.default_hours_per_week).toBe(
      config.capacity.defaultHoursPerWeek,
    );
  });

  it("people come only from the trusted proxy, as csm or lead", async () => {
    const cta = ctas[0]!;
    const r = await p(cta.cta_id, {note: "x"}, person(cta.owner!, "admin"));
    expect(r.status).toBe(403);
    expect((await p(cta.cta_id, {note: "x"}, person("<script>"))).status).toBe(400);
    const untrusted = await startTestApi({
      warehousePath,
      modelsDir,
      apiKeys: loadApiConfig({API_KEYS: read.entry}).apiKeys,
      identityProxy: {addresses: ["10.9.9.9"], userHeader: "x-forwarded-user", roleHeader: "x-forwarded-role"},
    });
    try {
      const spoof = await req(`${untrusted.url}/ctas/${cta.cta_id}`, {
        method: "PATCH",
        body: {note: "spoofed"},
        headers: person(cta.owner!, "lead"),
      });
      expect(spoof.status).toBe(403);
      expect(String(spoof.body.detail)).toMatch(/only from the configured proxy/);
    } finally {
      await untrusted.close();
    }
  });
});

describe("writes during a nightly build", () => {
  it("loses none: the API shows them over the new build at once, and the next build applies them", async () => {
    const ctas = await everyCta(srv.url);
    const targets = ctas.filter((c) => c.status === "open").slice(10, 40);
    srv.warehouse.watch(50);
    // tonight's build again, on the API's warehouse and store
    const nightly = () =>
      build({
        customers: TEST_CUSTOMERS,
        seed: 5,
        source: "synthetic",
        asOf: TEST_WAREHOUSE_AS_OF,
        site: false,
        warehousePath,
        modelsDir,
        store: `sqlite:${join(root, "ops.sqlite")}`,
        log: () => {},
      });
    const building = nightly();
    const results: number[] = [];
    let i = 0;
    for (const c of targets) {
      results.push((await patch(c.cta_id, {status: "in_progress", note: `write ${i++}`})).status);
      await new Promise((r) => setTimeout(r, 150));
    }
    await building;
    expect(results.every((s) => s === 200)).toBe(true);
    // the API has swapped to the new build
    const t0 = Date.now();
    const builtBefore = srv.warehouse.current!.info.built_at;
    while (srv.warehouse.current!.info.built_at === builtBefore && Date.now() - t0 < 20_000)
      await new Promise((r) => setTimeout(r, 100));
    const after = new Map(
      (await everyCta(srv.url, "&status=open,in_progress,snoozed,done,dismissed,closed")).map((c) => [c.cta_id, c]),
    );
    for (const c of targets)
      if (after.get(c.cta_id)?.status !== "closed") expect(after.get(c.cta_id)?.status).toBe("in_progress");
    // the next build writes them into the history
    await nightly();
    const w = await openWarehouse(warehousePath, {readOnly: true});
    const h = new Map(
      (await all<{cta_id: string; status: string}>(w.conn, "SELECT cta_id, status FROM marts.mart_cta_history")).map(
        (r) => [r.cta_id, r.status],
      ),
    );
    w.close();
    for (const c of targets) expect(h.get(c.cta_id)).toBe("in_progress");
  }, 600_000);
});
