// Customer 360: per-account dossiers packed into an archive of SHARDS JSON files
// (`c360/00.json` … `c360/63.json`, customers spread by a hash of their id) plus
// `c360/index.json`, the picker's list. A page fetches the index and only the shard of the
// account on screen, so switching accounts stays fast at 100,000 customers.
import { RISK_SCORE_COLUMNS } from "../../loaders/site/site-columns.ts";
import { modelCard, tarArchive, withWarehouse } from "./_lib/read-warehouse.ts";

/** Must match src/components/c360-files.ts, which names every shard for Framework. */
const SHARDS = 64;
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

const files = await withWarehouse(async (w) => {
  const R = "marts.mart_customer_risk_scores";
  // the model card of the model that scored this build (the what-if panel encodes its features)
  const card = await modelCard<{ features: { name: string }[] }>(w);
  const available = card.features.map((f) => f.name);
  const featureColumns = new Set((await w.rows<{ column_name: string }>(`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = 'marts' AND table_name = 'mart_customer_churn_features'`)).map((r) => r.column_name));
  const missing = available.filter((n) => !featureColumns.has(n));
  if (missing.length) throw new Error(`c360: the model's features ${missing.join(", ")} are not in marts.mart_customer_churn_features`);
  const build = await w.row<{ as_of: string }>(`SELECT built_at, as_of, source, customers FROM marts.build_info`);
  const rows = await w.rows<{ shard: number; customer_id: string; components: unknown; usage: number[]; tickets: unknown; opps: unknown; ctas: unknown; drivers: unknown; history: unknown; features: unknown } & Record<string, unknown>>(`
    WITH base AS (
      SELECT (hash(customer_id) % ${SHARDS})::INTEGER AS shard, ${RISK_SCORE_COLUMNS.map((c) => `r.${c}`).join(", ")}
      FROM ${R} r
    ),
    comp AS (
      SELECT customer_id, list({id: component_id, label: label, value: value, score: round(component_score, 1), lost: round(points_lost, 2)} ORDER BY points_lost DESC, component_id) AS components
      FROM marts.mart_health_components GROUP BY customer_id
    ),
    days AS (SELECT (SELECT as_of FROM marts.build_info) - 89 + i::INTEGER AS d, i FROM range(90) t(i)),
    usage AS (
      SELECT b.customer_id, list(coalesce(u.events, 0) ORDER BY days.i) AS usage
      FROM base b CROSS JOIN days LEFT JOIN marts.mart_customer_usage_90d u ON u.customer_id = b.customer_id AND u.event_date = days.d
      GROUP BY b.customer_id
    ),
    tickets AS (
      SELECT customer_id, list({id: ticket_id, opened: strftime(opened_at, '%Y-%m-%d %H:%M'), priority: priority, category: category, subject: subject}
                               ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, opened_at) AS tickets
      FROM raw.support_tickets
      WHERE CAST(opened_at AS DATE) <= (SELECT as_of FROM marts.build_info)
        AND (resolved_at IS NULL OR CAST(resolved_at AS DATE) > (SELECT as_of FROM marts.build_info))
      GROUP BY customer_id
    ),
    opps AS (
      SELECT customer_id, list({type: opportunity_type, stage: stage, amount: amount, created: created_date, close: close_date} ORDER BY close_date) AS opps
      FROM raw.gtm_opportunities
      WHERE created_date <= (SELECT as_of FROM marts.build_info)
        AND (stage NOT IN ('closed_won', 'closed_lost') OR close_date > (SELECT as_of FROM marts.build_info))
      GROUP BY customer_id
    ),
    ctas AS (
      -- the account's open CTAs, with the due dates fixed when they opened (marts.mart_cta_queue)
      SELECT customer_id, list({priority: priority, reason: reason_label, detail: detail, playbook: playbook, step: step,
                                created: created_date, due: due_date, overdue: overdue} ORDER BY due_date, priority_rank, cta_id) AS ctas
      FROM marts.mart_cta_queue GROUP BY customer_id
    ),
    drivers AS (
      SELECT customer_id, list({rank: rank, feature: feature, value: feature_value, contribution: contribution} ORDER BY rank) AS drivers
      FROM marts.mart_customer_drivers GROUP BY customer_id
    ),
    history AS (
      SELECT customer_id, list({date: as_of_date, p: churn_probability} ORDER BY as_of_date) AS history
      FROM marts.mart_churn_score_history GROUP BY customer_id
    ),
    feats AS (
      SELECT customer_id, {${available.map((n) => `${lit(n)}: ${n}`).join(", ")}} AS features
      FROM marts.mart_customer_churn_features
    )
    SELECT b.*, c.components, u.usage, coalesce(t.tickets, []) AS tickets, coalesce(o.opps, []) AS opps, coalesce(ct.ctas, []) AS ctas,
           coalesce(dr.drivers, []) AS drivers, coalesce(h.history, []) AS history, f.features
    FROM base b
    LEFT JOIN comp c USING (customer_id)
    LEFT JOIN usage u USING (customer_id)
    LEFT JOIN tickets t USING (customer_id)
    LEFT JOIN opps o USING (customer_id)
    LEFT JOIN ctas ct USING (customer_id)
    LEFT JOIN drivers dr USING (customer_id)
    LEFT JOIN history h USING (customer_id)
    LEFT JOIN feats f USING (customer_id)
    ORDER BY b.customer_id`);

  const shards: Record<string, unknown>[] = Array.from({ length: SHARDS }, () => ({}));
  const index = { id: [] as string[], name: [] as string[], plan: [] as string[], tier: [] as string[], p: [] as (number | null)[], arr: [] as number[], shard: [] as number[] };
  const labels: Record<string, string> = {};
  const r4 = (x: unknown) => (typeof x === "number" ? Math.round(x * 1e4) / 1e4 : null);
  // float32 survives a round trip through 9 significant digits: the what-if sees the model's exact inputs
  const f32 = (x: unknown) => (typeof x === "number" ? Number(Math.fround(x).toPrecision(9)) : typeof x === "boolean" ? Number(x) : x ?? null);
  for (const { shard, components, usage, tickets, opps, ctas, drivers, history, features, recommended_action: _a, health_colour: _b, ...profile } of rows) {
    const comps = (components as { id: string; label: string; value: number | null; score: number; lost: number }[] | null) ?? [];
    for (const c of comps) labels[c.id] = c.label;
    const feats = features as Record<string, unknown> | null;
    shards[shard]![profile.customer_id] = {
      ...profile,
      churn_probability: r4(profile.churn_probability),
      components: comps.map((c) => [c.id, f32(c.value), c.score, c.lost]),
      usage,
      tickets,
      opps,
      ctas,
      // feature values arrive as text (numbers and category labels share one column)
      drivers: (drivers as { feature: string; value: string | number | null; contribution: number }[]).map((d) => {
        const v = typeof d.value === "string" && d.value.trim() !== "" && Number.isFinite(Number(d.value)) ? Number(d.value) : d.value;
        return [d.feature, typeof v === "number" ? Number(v.toPrecision(6)) : v, r4(d.contribution)];
      }),
      history: (history as { date: string; p: number }[]).map((h) => [h.date, r4(h.p)]),
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
    { name: "index.json", data: json({ build, shards: SHARDS, usageEnd: build.as_of, features: available, componentLabels: labels, customers: index }) },
    ...shards.map((s, i) => ({ name: `${String(i).padStart(2, "0")}.json`, data: json({ shard: i, customers: s }) })),
  ];
});

process.stdout.write(tarArchive(files));
