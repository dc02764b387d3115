/**
 * One definition per fact, checked end to end on a real build: for every active account, the
 * site (the Customer 360 loader's dossiers and the quadrant page's export), the API
 * (`GET /predictions/customers/{id}/360` over HTTP) and the marts agree on the open tickets, the
 * open opportunities, the tiers and both quadrants. The open-ticket and open-opportunity rules
 * are also recomputed here from the raw rows, in TypeScript, as an independent oracle.
 */
import {startTestApi} from "./helpers/test-api.ts";
import {spawn} from "node:child_process";
import path from "node:path";
import {tableFromIPC} from "apache-arrow";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import type {ApiServer} from "../server/serve-api.ts";
import {ensureTestWarehouse} from "./helpers/test-warehouse.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

function runLoader(loader: string, warehouse: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules/.bin/tsx"), [loader], {
      cwd: ROOT,
      env: {...process.env, SAASGUARD_WAREHOUSE: warehouse},
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${loader}: ${err}`))));
  });
}

/** The members of a ustar archive (what the Customer 360 loader writes). */
function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let off = 0; off + 512 <= buf.length;) {
    const name = buf.toString("utf8", off, off + 100).replace(/\0.*$/s, "");
    if (!name) break;
    const size = parseInt(buf.toString("utf8", off + 124, off + 136).replace(/\0.*$/s, ""), 8);
    files.set(name, buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

interface Dossier {
  customer_id: string;
  risk_tier: string;
  model_tier: string;
  health_quadrant: string;
  model_quadrant: string;
  open_tickets: number;
  tickets: {id: string}[];
  opps: {type: string; stage: string; created: string; close: string}[];
}

interface Api360 {
  scores: {risk_tier: string; model_tier: string};
  usage: {open_tickets: number};
  is_flight_risk: boolean;
  quadrant: {model_quadrant: string; health_quadrant: string};
  open_tickets: {ticket_id: string}[];
  opportunities: {opportunity_id: string; opportunity_type: string; open: boolean}[];
}

interface MartRow {
  customer_id: string;
  risk_tier: string;
  model_tier: string;
  open_tickets: number;
  has_open_expansion_opp: boolean;
  has_open_renewal_opp: boolean;
  health_quadrant: string;
  model_quadrant: string;
}

let warehouse: string;
let srv: ApiServer;
let asOf: string;
let marts: MartRow[];
const oracleTickets = new Map<string, string[]>();
const oracleOpps = new Map<string, {id: string; type: string}[]>();

beforeAll(async () => {
  warehouse = await ensureTestWarehouse();
  const w = await openWarehouse(warehouse, {readOnly: true});
  try {
    asOf = (await all<{d: string}>(w.conn, "SELECT CAST(as_of AS VARCHAR) AS d FROM marts.build_info"))[0]!.d;
    marts = await all<MartRow>(
      w.conn,
      `SELECT r.customer_id, r.risk_tier, r.model_tier, CAST(r.open_tickets AS INTEGER) AS open_tickets,
              f.has_open_expansion_opp, f.has_open_renewal_opp, q.health_quadrant, q.model_quadrant
       FROM marts.mart_customer_risk_scores r
       JOIN marts.mart_customer_churn_features f USING (customer_id)
       JOIN marts.mart_propensity_quadrant q USING (customer_id)
       ORDER BY r.customer_id`,
    );
    // the oracle: the definitions in plain words, applied to the raw rows in TypeScript
    const tickets = await all<{customer_id: string; ticket_id: string; opened: string; resolved: string | null}>(
      w.conn,
      `SELECT customer_id, ticket_id, CAST(CAST(opened_at AS DATE) AS VARCHAR) AS opened,
              CAST(CAST(resolved_at AS DATE) AS VARCHAR) AS resolved FROM raw.support_tickets`,
    );
    for (const t of tickets)
      if (t.opened <= asOf && (t.resolved === null || t.resolved > asOf))
        oracleTickets.set(t.customer_id, [...(oracleTickets.get(t.customer_id) ?? []), t.ticket_id]);
    const opps = await all<{
      customer_id: string;
      opportunity_id: string;
      opportunity_type: string;
      stage: string;
      created: string;
      close: string;
    }>(
      w.conn,
      `SELECT customer_id, opportunity_id, opportunity_type, stage, CAST(created_date AS VARCHAR) AS created,
              CAST(close_date AS VARCHAR) AS close FROM raw.gtm_opportunities`,
    );
    for (const o of opps) {
      const closedStage = o.stage === "closed_won" || o.stage === "closed_lost";
      if (o.created <= asOf && (!closedStage || o.close > asOf))
        oracleOpps.set(o.customer_id, [
          ...(oracleOpps.get(o.customer_id) ?? []),
          {id: o.opportunity_id, type: o.opportunity_type},
        ]);
    }
  } finally {
    w.close();
  }
  srv = await startTestApi({
    warehousePath: warehouse,
    // one request per account, back to back
    rateLimitPerMinute: 1_000_000,
    rateLimitBurst: 1_000_000,
  });
}, 600_000);

afterAll(async () => {
  await srv?.close();
});

describe("site, API and marts agree account by account", () => {
  it("on open tickets, open opportunities, tiers and both quadrants", async () => {
    const tar = untar(await runLoader("src/data/c360.tar.ts", warehouse));
    const index = JSON.parse(tar.get("index.json")!.toString()) as {shards: number};
    const site = new Map<string, Dossier>();
    for (let i = 0; i < index.shards; i++) {
      const shard = JSON.parse(tar.get(`${String(i).padStart(2, "0")}.json`)!.toString()) as {
        customers: Record<string, Dossier>;
      };
      for (const [id, d] of Object.entries(shard.customers)) site.set(id, d);
    }
    const quadrantPage = tableFromIPC(await runLoader("src/data/quadrant.arrow.ts", warehouse));
    const pageQuadrant = new Map<string, {health: string; model: string}>();
    for (const row of quadrantPage)
      pageQuadrant.set(String(row.customer_id), {
        health: String(row.health_quadrant),
        model: String(row.model_quadrant),
      });

    expect(marts.length).toBeGreaterThan(100);
    expect(site.size).toBe(marts.length);
    expect(pageQuadrant.size).toBe(marts.length);
    let withTickets = 0;
    let withOpps = 0;
    for (const m of marts) {
      const id = m.customer_id;
      const d = site.get(id)!;
      const r = await fetch(`${srv.url}/predictions/customers/${encodeURIComponent(id)}/360`);
      expect(r.status, id).toBe(200);
      const api = (await r.json()) as Api360;

      // open tickets: the oracle's ids = the site's = the API's, and their count is the mart's feature
      const tickets = [...(oracleTickets.get(id) ?? [])].sort();
      expect(d.tickets.map((t) => t.id).sort(), `${id} site tickets`).toEqual(tickets);
      expect(api.open_tickets.map((t) => t.ticket_id).sort(), `${id} API tickets`).toEqual(tickets);
      expect(m.open_tickets, `${id} mart open_tickets`).toBe(tickets.length);
      expect(d.open_tickets, `${id} site open_tickets`).toBe(tickets.length);
      expect(api.usage.open_tickets, `${id} API open_tickets`).toBe(tickets.length);
      if (tickets.length) withTickets++;

      // open opportunities: the oracle's = the API's open ones = the site's, and the features' flags
      const opps = oracleOpps.get(id) ?? [];
      const ids = opps.map((o) => o.id).sort();
      const apiOpen = api.opportunities.filter((o) => o.open);
      expect(apiOpen.map((o) => o.opportunity_id).sort(), `${id} API open opportunities`).toEqual(ids);
      expect(d.opps.length, `${id} site opportunities`).toBe(ids.length);
      expect(m.has_open_expansion_opp, `${id} expansion flag`).toBe(opps.some((o) => o.type === "expansion"));
      expect(m.has_open_renewal_opp, `${id} renewal flag`).toBe(opps.some((o) => o.type === "renewal"));
      if (ids.length) withOpps++;

      // tiers
      expect([d.risk_tier, d.model_tier], `${id} site tiers`).toEqual([m.risk_tier, m.model_tier]);
      expect([api.scores.risk_tier, api.scores.model_tier], `${id} API tiers`).toEqual([m.risk_tier, m.model_tier]);

      // quadrants: both, named apart, the same on the page, in Customer 360 and in the API
      const both = [m.health_quadrant, m.model_quadrant];
      expect([d.health_quadrant, d.model_quadrant], `${id} Customer 360 quadrants`).toEqual(both);
      const pq = pageQuadrant.get(id)!;
      expect([pq.health, pq.model], `${id} quadrant page`).toEqual(both);
      expect([api.quadrant.health_quadrant, api.quadrant.model_quadrant], `${id} API quadrants`).toEqual(both);
      expect(api.is_flight_risk).toBe(m.model_quadrant === "Flight Risk");
    }
    // the comparison covered accounts that have something to compare
    expect(withTickets).toBeGreaterThan(10);
    expect(withOpps).toBeGreaterThan(10);
  });
});
