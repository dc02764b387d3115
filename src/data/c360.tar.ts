// Customer 360: per-account dossiers packed into an archive of SHARDS JSON files
// (`c360/00.json` … `c360/63.json`, customers spread by a hash of their id) plus
// `c360/index.json`, the picker's list. A page fetches the index and only the shard of the
// account on screen, so switching accounts stays fast at 100,000 customers.
import {RISK_SCORE_COLUMNS} from "../../loaders/site/site-tables.ts";
import {ident, lit} from "../components/sql.ts";
import {modelCard, tarArchive, withWarehouse} from "./_lib/read-warehouse.ts";

/** Must match src/components/c360-files.ts, which names every shard for Framework. */
const SHARDS = 64;

const files = await withWarehouse(async (w) => {
  // the model card of the model that scored this build (the what-if panel encodes its features)
  const card = await modelCard<{features: {name: string}[]}>(w);
  const available = card.features.map((f) => f.name);
  const featureColumns = new Set(
    (
      await w.rows<{column_name: string}>(`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = 'marts' AND table_name = 'mart_customer_churn_features'`)
    ).map((r) => r.column_name),
  );
  const missing = available.filter((n) => !featureColumns.has(n));
  if (missing.length)
    throw new Error(`c360: the model's features ${missing.join(", ")} are not in marts.mart_customer_churn_features`);
  const build = await w.row<{as_of: string}>(`SELECT built_at, as_of, source, customers FROM marts.build_info`);
  // health components this installation's data cannot measure (left out, weight spread over the rest)
  const notMeasured = await w.rows<{label: string; configured_weight: number; needs: string}>(`
    SELECT label, configured_weight, needs FROM marts.int_score_weights
    WHERE score = 'health' AND segment IS NULL AND NOT measured ORDER BY configured_weight DESC, label`);
  // everything beyond the scores row comes from marts.mart_customer_360, the table the API's 360
  // endpoint reads too; this loader only reshapes it into compact per-shard JSON
  const rows = await w.rows<
    {
      shard: number;
      customer_id: string;
      components: {id: string; label: string; value: number | null; score: number; lost: number}[];
      usage: number[];
      tickets: {ticket_id: string; opened_at: string; priority: string; category: string; subject: string | null}[];
      opps: {opportunity_type: string; stage: string; amount: number; created_date: string; close_date: string}[];
      ctas: unknown;
      drivers: unknown;
      xdrivers: unknown;
      history: unknown;
      features: unknown;
    } & Record<string, unknown>
  >(`
    SELECT (hash(r.customer_id) % ${SHARDS})::INTEGER AS shard, ${RISK_SCORE_COLUMNS.map((c) => `r.${c}`).join(", ")},
      d.health_quadrant, d.model_quadrant,
      [{id: c.component_id, label: c.label, value: c.value, score: c.score, lost: c.points_lost} FOR c IN d.health_components] AS components,
      d.usage_90d AS usage, d.open_tickets AS tickets, d.open_opportunities AS opps,
      [{priority: c.priority, reason: c.reason, detail: c.detail, playbook: c.playbook, step: c.step,
        created: c.created_date, due: c.due_date, overdue: c.overdue} FOR c IN d.open_ctas] AS ctas,
      d.model_drivers AS drivers, d.expansion_probability, d.expected_expansion_arr, d.expansion_drivers AS xdrivers,
      [{date: h.as_of_date, p: h.churn_probability} FOR h IN d.score_history] AS history,
      {${available.map((n) => `${lit(n)}: f.${ident(n)}`).join(", ")}} AS features
    FROM marts.mart_customer_risk_scores r
    JOIN marts.mart_customer_360 d USING (customer_id)
    JOIN marts.mart_customer_churn_features f USING (customer_id)
    ORDER BY r.customer_id`);

  const shards: Record<string, unknown>[] = Array.from({length: SHARDS}, () => ({}));
  const r4 = (x: unknown) => (typeof x === "number" ? Math.round(x * 1e4) / 1e4 : null);
  // a model's drivers as [feature, value, contribution]; feature values arrive as text (numbers
  // and category labels share one column)
  const compactDrivers = (list: unknown) =>
    ((list as {feature: string; value: string | number | null; contribution: number}[] | null) ?? []).map((d) => {
      const v =
        typeof d.value === "string" && d.value.trim() !== "" && Number.isFinite(Number(d.value))
          ? Number(d.value)
          : d.value;
      return [d.feature, typeof v === "number" ? Number(v.toPrecision(6)) : v, r4(d.contribution)];
    });
  const index = {
    id: [] as string[],
    name: [] as string[],
    plan: [] as string[],
    tier: [] as string[],
    p: [] as (number | null)[],
    arr: [] as number[],
    shard: [] as number[],
  };
  const labels: Record<string, string> = {};
  // float32 survives a round trip through 9 significant digits: the what-if sees the model's exact inputs
  const f32 = (x: unknown) =>
    typeof x === "number" ? Number(Math.fround(x).toPrecision(9)) : typeof x === "boolean" ? Number(x) : (x ?? null);
  for (const {
    shard,
    components,
    usage,
    tickets,
    opps,
    ctas,
    drivers,
    xdrivers,
    history,
    features,
    recommended_action: _a,
    health_colour: _b,
    ...profile
  } of rows) {
    const comps =
      (components as {id: string; label: string; value: number | null; score: number; lost: number}[] | null) ?? [];
    for (const c of comps) labels[c.id] = c.label;
    const feats = features as Record<string, unknown> | null;
    shards[shard]![profile.customer_id] = {
      ...profile,
      churn_probability: r4(profile.churn_probability),
      components: comps.map((c) => [c.id, f32(c.value), c.score, c.lost]),
      usage,
      tickets: tickets.map((t) => ({
        id: t.ticket_id,
        opened: t.opened_at.slice(0, 16),
        priority: t.priority,
        category: t.category,
        subject: t.subject,
      })),
      opps: opps.map((o) => ({
        type: o.opportunity_type,
        stage: o.stage,
        amount: o.amount,
        created: o.created_date,
        close: o.close_date,
      })),
      ctas,
      drivers: compactDrivers(drivers),
      expansion_probability: r4(profile.expansion_probability),
      expected_expansion_arr: r4(profile.expected_expansion_arr),
      xdrivers: compactDrivers(xdrivers),
      history: (history as {date: string; p: number}[]).map((h) => [h.date, r4(h.p)]),
      features: feats ? available.map((n) => f32(feats[n])) : null,
    };
    index.id.push(profile.customer_id);
    index.name.push(String(profile.company_name));
    index.plan.push(String(profile.plan_tier));
    index.tier.push(String(profile.model_tier));
    index.p.push(r4(profile.churn_probability));
    index.arr.push(Number(profile.arr));
    index.shard.push(shard);
  }
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  return [
    {
      name: "index.json",
      data: json({
        build,
        shards: SHARDS,
        usageEnd: build.as_of,
        features: available,
        componentLabels: labels,
        notMeasured,
        customers: index,
      }),
    },
    ...shards.map((s, i) => ({name: `${String(i).padStart(2, "0")}.json`, data: json({shard: i, customers: s})})),
  ];
});

process.stdout.write(tarArchive(files));
