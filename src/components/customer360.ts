/**
 * Customer 360: one account's risk snapshot.
 *
 * Data: src/data/c360.tar.ts packs every account's dossier into 64 shard files plus an index.
 * `Customer360Data` fetches the index once and each shard at most once, so switching accounts
 * is an in-memory lookup (or one small fetch the first time a shard is needed).
 */
import * as Plot from "npm:@observablehq/plot";
import {ACCENT, BAD, GOOD, MIN_WIDTH, MUTED, PLOT_STYLE, TIER_COLOURS} from "./theme.js";
import {html} from "npm:htl";
import {config, isAtRisk, type RiskTier} from "../rules/config.js";
import {indexFile, shardFiles} from "./c360-files.js";
import {addDays, formatDate, formatInt, formatPercent, formatUsd, formatUsdCompact, parseUtc} from "./format.js";
import {actionTier, priorityLabel, recommendedAction, renewalStage} from "../rules/dashboard-math.js";
import type {Priority} from "../rules/playbooks.js";
import type {AccountColumns} from "./accounts.js";
import {emptyState, tierBadge, type BuildInfo} from "./ui.js";
import {componentWords, featureWords, riskFlagLabel} from "../rules/labels.js";

/** c360/index.json */
export interface C360Index {
  build: BuildInfo;
  shards: number;
  /** last day of the usage series (the as-of date) */
  usageEnd: string;
  /** names of the model features in each dossier's `features` array */
  features: string[];
  componentLabels: Record<string, string>;
  /** health components left out because the installation has none of the data they need */
  notMeasured: {label: string; configured_weight: number; needs: string}[];
  customers: {
    id: string[];
    name: string[];
    plan: string[];
    tier: string[];
    p: number[];
    arr: number[];
    shard: number[];
  };
}

/** A model's driver: [feature, value (number or category label), contribution in log-odds]. */
export type Driver = [string, number | string | null, number];

/** One account's dossier (c360/NN.json). */
export interface Dossier extends AccountColumns<string> {
  /** [component id, feature value, 0–100 score, points lost], most points lost first */
  components: [string, number | null, number, number][];
  /** engagement events per day, 90 days ending at the as-of date */
  usage: number[];
  tickets: {id: string; opened: string; priority: string; category: string; subject: string | null}[];
  opps: {type: string; stage: string; amount: number; created: string; close: string}[];
  /** open CTAs (marts.mart_cta_queue), soonest due first; due dates were fixed when each opened */
  ctas: {
    priority: Priority;
    reason: string;
    detail: string;
    playbook: string;
    step: string;
    created: string;
    due: string;
    overdue: boolean;
  }[];
  /** [feature, value (number or category label), contribution in log-odds], rank order */
  drivers: Driver[];
  /** the expansion model: P(expansion in 90 days), its expected ARR, and its drivers as `drivers` */
  expansion_probability: number | null;
  expected_expansion_arr: number | null;
  xdrivers: Driver[];
  /** [month, P(churn)] */
  history: [string, number][];
  /** model inputs in the order of C360Index.features (categoricals as labels) */
  features: (number | string | null)[];
}

/** Index + lazily fetched shards. */
export class Customer360Data {
  readonly index: C360Index;
  private readonly position = new Map<string, number>();
  private readonly shards = new Map<number, Promise<Record<string, Dossier>>>();

  private constructor(index: C360Index) {
    this.index = index;
    index.customers.id.forEach((id, i) => this.position.set(id, i));
  }

  static async load(): Promise<Customer360Data> {
    return new Customer360Data((await indexFile.json()) as C360Index);
  }

  has(id: string): boolean {
    return this.position.has(id);
  }

  /** The account with the largest expected loss (P(churn) × ARR). */
  defaultId(): string {
    const c = this.index.customers;
    let best = 0;
    let bestV = -1;
    for (let i = 0; i < c.id.length; i++) {
      const v = c.p[i]! * c.arr[i]!;
      if (v > bestV) ((bestV = v), (best = i));
    }
    return c.id[best]!;
  }

  /** The dossier of `id` (fetches its shard the first time). */
  async get(id: string): Promise<Dossier> {
    const i = this.position.get(id);
    if (i === undefined) throw new Error(`unknown customer ${id}`);
    const k = this.index.customers.shard[i]!;
    let shard = this.shards.get(k);
    if (!shard) {
      const file = shardFiles[k];
      if (!file) throw new Error(`no shard file ${k}`);
      shard = file.json().then((j) => (j as {customers: Record<string, Dossier>}).customers);
      this.shards.set(k, shard);
    }
    const d = (await shard)[id];
    if (!d) throw new Error(`customer ${id} missing from shard ${k}`);
    return d;
  }

  /** Up to `limit` accounts whose name or id contains every word of `query` (case-insensitive). */
  search(query: string, limit = 50): {id: string; label: string}[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const c = this.index.customers;
    const out: {id: string; label: string}[] = [];
    for (let i = 0; i < c.id.length && out.length < limit; i++) {
      const hay = `${c.name[i]} ${c.id[i]}`.toLowerCase();
      if (words.every((w) => hay.includes(w)))
        out.push({
          id: c.id[i]!,
          label: `${c.name[i]} · ${c.id[i]} · ${c.plan[i]} · ${c.tier[i]} · ${formatPercent(c.p[i]!)}`,
        });
    }
    return out;
  }

  /** The model feature row of a dossier, by feature name (for the what-if panel). */
  featureRow(d: Dossier): Record<string, unknown> {
    return Object.fromEntries(this.index.features.map((n, j) => [n, d.features[j]]));
  }
}

/**
 * The account picker: a search box (name or id) and a keyboard-navigable list of matches.
 * Its `value` is the chosen customer id; it fires `input` when the choice changes, so a page
 * can `view()` it.
 */
export function customerPicker(data: Customer360Data, initial: string): HTMLElement & {value: string} {
  const box =
    html`<input type="search" id="c360-search" placeholder="Search by company name or customer id…" aria-label="Search accounts by name or id" autocomplete="off" spellcheck="false">` as HTMLInputElement;
  const list = html`<select id="c360-results" size="6" aria-label="Matching accounts"></select>` as HTMLSelectElement;
  const count = html`<span class="sg-meta" aria-live="polite"></span>` as HTMLElement;
  const root =
    html`<div class="sg-picker"><label for="c360-search" class="sg-picker-label">Account</label>${box}${list}${count}</div>` as HTMLElement & {
      value: string;
    };
  root.value = initial;
  const fill = () => {
    const q = box.value.trim();
    // with no query: the current account first, then the rest in id order
    const matches = q
      ? data.search(q, 50)
      : [...data.search(root.value, 1), ...data.search("", 50).filter((m) => m.id !== root.value)];
    list.replaceChildren(
      ...matches.map((m) => html`<option value=${m.id} selected=${m.id === root.value}>${m.label}</option>` as Node),
    );
    count.textContent = q
      ? `${matches.length === 50 ? "50+" : matches.length} match${matches.length === 1 ? "" : "es"}`
      : `${formatInt(data.index.customers.id.length)} accounts — type to search`;
  };
  const choose = (id: string) => {
    if (!id || id === root.value) return;
    root.value = id;
    root.dispatchEvent(new Event("input", {bubbles: true}));
    const u = new URL(location.href);
    u.searchParams.set("id", id);
    history.replaceState(null, "", u);
  };
  box.addEventListener("input", fill);
  box.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && list.options.length)
      (e.preventDefault(), list.focus(), (list.selectedIndex = Math.max(list.selectedIndex, 0)));
    if (e.key === "Enter" && list.options.length)
      (e.preventDefault(), choose(list.options[Math.max(list.selectedIndex, 0)]!.value));
  });
  list.addEventListener("change", () => choose(list.value));
  list.addEventListener("click", () => choose(list.value));
  list.addEventListener("keydown", (e) => {
    if (e.key === "Enter") (e.preventDefault(), choose(list.value));
  });
  fill();
  return root;
}

/** Header line: who the account is. */
export function accountHeader(d: Dossier): HTMLElement {
  const renewal = formatDate(d.renewal_date);
  return html`<div class="sg-account" id="c360-account" data-customer=${d.customer_id}>
    <h2 class="sg-account-name">${d.company_name} <span class="sg-id">${d.customer_id}</span></h2>
    <div class="sg-meta">${d.plan_tier} plan · ${d.industry} · ${d.company_size} employees · ${d.lifecycle_stage} · customer for ${formatInt(d.tenure_days)} days ·
      CSM <strong>${d.csm_owner}</strong> · ${formatInt(d.seats_purchased)} seats · renews ${renewal} (in ${formatInt(d.days_to_renewal)} days)</div></div>` as HTMLElement;
}

/** The churn-score KPI with its monthly trend ("Big Number + Trend"). */
export function churnScoreKpi(d: Dossier, {width}: {width: number}): HTMLElement {
  const p = d.churn_probability;
  const hist = d.history.map(([date, v]) => ({date: parseUtc(date), p: v}));
  const trend = hist.length > 1 ? hist.at(-1)!.p - hist.at(-2)!.p : null;
  const spark = hist.length
    ? Plot.plot({
        width: Math.max(Math.min(width, 420), 200),
        height: 90,
        marginLeft: 36,
        marginBottom: 22,
        marginTop: 8,
        style: PLOT_STYLE,
        x: {type: "utc", ticks: 4, label: null},
        y: {
          domain: [0, Math.max(0.1, ...hist.map((h) => h.p)) * 1.1],
          tickFormat: "%",
          ticks: 3,
          label: null,
          grid: true,
        },
        marks: [
          Plot.lineY(hist, {x: "date", y: "p", stroke: ACCENT, strokeWidth: 2}),
          Plot.dot(hist, {
            x: "date",
            y: "p",
            fill: ACCENT,
            r: 2.5,
            tip: {format: {y: (v: number) => formatPercent(v)}},
          }),
        ],
      })
    : html`<div class="sg-meta">no score history</div>`;
  return html`<div class="card sg-panel" id="c360-score" data-kpi="churn-probability">
    <h2>Churn probability, next 90 days</h2>
    <div class="sg-row"><span class="sg-big-prob big" style=${`color:${TIER_COLOURS[d.model_tier]}`}>${formatPercent(p)}</span>
      ${tierBadge(d.model_tier)}
      ${trend === null ? "" : html`<span class=${trend > 0 ? "sg-delta sg-worse" : "sg-delta sg-better"}>${trend > 0 ? "▲" : "▼"} ${(Math.abs(trend) * 100).toFixed(1)} pp vs last month</span>`}</div>
    <div class="sg-meta">Health score <strong>${d.health_score.toFixed(0)}</strong>/100 (${d.risk_tier} risk) · calibrated churn model</div>
    ${spark}</div>` as HTMLElement;
}

/** Risk-flag breakdown: points each health component costs, plus the three flags. */
export function riskFlagChart(
  d: Dossier,
  index: Pick<C360Index, "componentLabels" | "notMeasured">,
  {width}: {width: number},
): HTMLElement {
  const labels = index.componentLabels;
  const rows = d.components.map(([id, value, score, lost]) => ({id, label: labels[id] ?? id, value, score, lost}));
  const flags = [
    {
      on: d.low_events,
      name: "low_events",
      text: `fewer than ${config.flags.lowEventsThreshold30d} events in 30 days → product adoption intervention`,
    },
    {
      on: d.support_overload,
      name: "support_overload",
      text: `≥ ${config.flags.supportOverloadHighTickets} high-priority tickets in 30 days → escalate tickets before the renewal call`,
    },
    {
      on: d.onboarding_at_risk,
      name: "onboarding_at_risk",
      text: `new account below ${config.flags.activationGateIntegrations} integrations → onboarding check-in`,
    },
    {
      on: d.payment_failing,
      name: "payment_failing",
      text: `≥ ${config.flags.failedPayments90d} failed payments in 90 days → check the card and billing contact before dunning cancels`,
    },
    {
      on: d.compliance_risk,
      name: "compliance_risk",
      text: `compliance gap ≥ ${config.flags.complianceGapScore * 100}% of controls or ≥ ${config.flags.vendorRiskFlags} vendor-risk findings → security review with the champion`,
    },
    {
      on: d.over_deployed,
      name: "over_deployed",
      text: `${d.over_deployed_users} people active beyond the licence → true-up: licence compliance and an expansion conversation`,
    },
  ];
  const on = flags.filter((f) => f.on);
  return html`<div>
    ${Plot.plot({
      width: Math.max(width, MIN_WIDTH),
      height: 40 + rows.length * 26,
      marginLeft: Math.min(280, width * 0.45),
      marginRight: 40,
      style: PLOT_STYLE,
      x: {label: "health points lost →", grid: true, domain: [0, Math.max(5, ...rows.map((r) => r.lost))]},
      y: {label: null, domain: rows.map((r) => r.label)},
      marks: [
        Plot.barX(rows, {
          x: "lost",
          y: "label",
          fill: (r: {lost: number}) => (r.lost >= 5 ? BAD : r.lost >= 1 ? "#e69f00" : "#c9d3df"),
          tip: {format: {x: (v: number) => v.toFixed(1)}},
          channels: {
            "Component score": "score",
            Value: (r: {value: number | null}) => (r.value === null ? "no data" : +r.value.toFixed(2)),
          },
        }),
        Plot.text(rows, {
          x: "lost",
          y: "label",
          text: (r: {lost: number}) => (r.lost >= 0.5 ? r.lost.toFixed(1) : ""),
          dx: 4,
          textAnchor: "start",
          fill: MUTED,
        }),
        Plot.ruleX([0]),
      ],
    })}
    <div class="sg-flags" id="c360-flags">${
      on.length
        ? on.map(
            (f) =>
              html`<div class="sg-callout sg-warn" data-flag=${f.name}><strong>${riskFlagLabel(f.name)}</strong> — ${f.text}</div>`,
          )
        : html`<div class="sg-meta">None of the risk flags (${flags.map((f) => riskFlagLabel(f.name).toLowerCase()).join(", ")}) is raised.</div>`
    }</div>${notMeasuredNote(index.notMeasured)}</div>` as HTMLElement;
}

/** Which health components the installation's data cannot measure, and where their weight went. */
export function notMeasuredNote(missing: C360Index["notMeasured"]): HTMLElement | string {
  if (!missing.length) return "";
  const share = missing.reduce((s, m) => s + m.configured_weight, 0);
  return html`<div class="sg-meta" id="c360-not-measured">Not measured in your data: ${missing
    .map((m) => `${m.label} (no ${m.needs.replaceAll("_", " ")})`)
    .join(
      "; ",
    )}. Their ${formatPercent(share)} of the health score's weight is spread over the other components.</div>` as HTMLElement;
}

/** 90-day usage: daily engagement events, 7-day average, and the last-30-vs-prior-60 slope. */
export function usageTrendChart(d: Dossier, usageEnd: string, {width}: {width: number}): HTMLElement {
  const start = addDays(usageEnd, -(d.usage.length - 1));
  const rows = d.usage.map((v, i) => ({date: addDays(start, i), events: v}));
  const last30 = d.usage.slice(-30).reduce((a, b) => a + b, 0);
  const prior60 = d.usage.slice(0, -30).reduce((a, b) => a + b, 0);
  const ratio = prior60 > 0 ? last30 / (prior60 / 2) : null;
  const verdict =
    ratio === null
      ? "no earlier usage to compare"
      : ratio < 0.8
        ? `decelerating: last 30 days at ${formatPercent(ratio)} of the prior monthly average`
        : ratio > 1.2
          ? `accelerating: last 30 days at ${formatPercent(ratio)} of the prior monthly average`
          : `steady: last 30 days at ${formatPercent(ratio)} of the prior monthly average`;
  return html`<div>${Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 230,
    marginLeft: 45,
    style: PLOT_STYLE,
    x: {type: "utc", label: null},
    y: {label: "events per day ↑", grid: true, zero: true},
    marks: [
      Plot.rectX([{x1: addDays(usageEnd, -29.5), x2: addDays(usageEnd, 0.5)}], {x1: "x1", x2: "x2", fill: "#eef3f9"}),
      Plot.areaY(rows, {x: "date", y: "events", fill: ACCENT, fillOpacity: 0.12, curve: "step"}),
      Plot.lineY(
        rows,
        Plot.windowY({k: 7, anchor: "end"}, {x: "date", y: "events", stroke: ACCENT, strokeWidth: 2.5, tip: true}),
      ),
      Plot.ruleY([0]),
      Plot.text([{x: addDays(usageEnd, -15)}], {
        x: "x",
        frameAnchor: "top",
        dy: 6,
        text: () => "last 30 days",
        fill: MUTED,
      }),
    ],
  })}<p class="sg-meta" id="c360-usage-verdict"><strong>${ratio !== null && ratio < 0.8 ? "⚠ " : ""}Usage ${verdict}.</strong> Line: 7-day average; shaded: daily events.</p></div>` as HTMLElement;
}

/** The account's top drivers from the churn model (TreeSHAP, log-odds), or the health drivers. */
export function driversChart(d: Dossier, {width}: {width: number}): HTMLElement {
  if (!d.drivers.length)
    return emptyState(
      `Top health-score drivers: ${
        d.top_risk_drivers
          ? d.top_risk_drivers
              .split(", ")
              .map((id) => componentWords(id))
              .join(", ")
          : "none"
      } (the model explanation has no drivers for this account).`,
    );
  return driverBars(d.drivers, {width, axis: "← lowers risk · raises risk → (log-odds)", up: BAD, down: GOOD});
}

/** The expansion model's probability and expected ARR for the account, and what moves them (TreeSHAP). */
export function expansionDriversChart(d: Dossier, {width}: {width: number}): HTMLElement {
  if (d.expansion_probability === null || !d.xdrivers?.length)
    return emptyState("The expansion model has not scored this account (rebuild with this version).");
  const chart = driverBars(d.xdrivers, {
    width,
    axis: "← lowers expansion odds · raises them → (log-odds)",
    up: GOOD,
    down: MUTED,
  });
  return html`<div><p class="sg-meta" id="c360-expansion-verdict"><strong>${formatPercent(d.expansion_probability)}</strong> chance of an upgrade or a won expansion in the next 90 days; expected expansion ${formatUsdCompact(d.expected_expansion_arr ?? 0)}.</p>${chart}</div>` as HTMLElement;
}

/** A model's drivers as bars, each in the words a CSM would use. */
function driverBars(
  drivers: readonly Driver[],
  {width, axis, up, down}: {width: number; axis: string; up: string; down: string},
): HTMLElement {
  // each bar reads as a CSM would say it ("Renews in 27 days"), the feature's label in the tip
  const words = drivers.map(([feature, value]) => featureWords(feature, value));
  const said = words.map(({description: t}) => t.charAt(0).toUpperCase() + t.slice(1));
  const rows = drivers.map(([, value, contribution], i) => ({
    feature: words[i]!.label,
    value,
    contribution,
    // two features can read alike ("no security review in the last year"): the label tells them apart
    label: said.indexOf(said[i]!) === said.lastIndexOf(said[i]!) ? said[i]! : `${said[i]} (${words[i]!.label})`,
  }));
  const marginLeft = Math.min(300, width * 0.5);
  return Plot.plot({
    width: Math.max(width, MIN_WIDTH),
    height: 40 + rows.length * 34,
    marginLeft,
    marginRight: 40,
    style: PLOT_STYLE,
    x: {label: axis, grid: true},
    y: {label: null, domain: rows.map((r) => r.label)},
    marks: [
      // sentences are longer than feature names: wrap them inside the margin (lineWidth is in ems)
      Plot.axisY({label: null, lineWidth: Math.max(8, (marginLeft - 12) / 10)}),
      Plot.barX(rows, {
        x: "contribution",
        y: "label",
        fill: (r: {contribution: number}) => (r.contribution > 0 ? up : down),
        tip: {format: {x: (v: number) => v.toFixed(3)}},
        channels: {Feature: "feature"},
      }),
      Plot.ruleX([0]),
    ],
  }) as unknown as HTMLElement;
}

/** Open support tickets ("What issues need immediate resolution?"). */
export function ticketsTable(d: Dossier): HTMLElement {
  if (!d.tickets.length) return emptyState("No open support tickets.");
  return html`<table class="sg-table" id="c360-tickets"><thead><tr><th>Ticket</th><th>Opened</th><th>Priority</th><th>Category</th><th>Subject</th></tr></thead><tbody>
    ${d.tickets.map(
      (t) => html`<tr><td class="sg-id">${t.id}</td><td class="num">${t.opened}</td>
      <td>${t.priority === "urgent" || t.priority === "high" ? html`<strong style="color:#b34700">${t.priority}</strong>` : t.priority}</td>
      <td>${t.category.replace(/_/g, " ")}</td><td>${t.subject ?? ""}</td></tr>`,
    )}</tbody></table>` as HTMLElement;
}

/** GTM opportunity card: renewal or expansion in flight, and the coordination it calls for. */
export function opportunityCard(d: Dossier): HTMLElement {
  const open = d.opps;
  const tier = actionTier(d.risk_tier, d.model_tier);
  const risky = isAtRisk(tier);
  const renewalOpen = open.some((o) => o.type === "renewal");
  return html`<div id="c360-gtm">${
    open.length
      ? html`<table class="sg-table"><thead><tr><th>Type</th><th>Stage</th><th class="num">Amount</th><th class="num">Closes</th></tr></thead><tbody>
        ${open.map((o) => html`<tr><td><strong>${o.type}</strong></td><td>${o.stage.replace(/_/g, " ")}</td><td class="num">${formatUsd(o.amount)}</td><td class="num">${formatDate(o.close)}</td></tr>`)}</tbody></table>`
      : emptyState("No renewal or expansion opportunity in flight.")
  }
    ${risky && renewalOpen ? html`<div class="sg-callout sg-warn" style="margin-top:.5rem">High-risk account with an open renewal: align CS and Sales now.</div>` : ""}</div>` as HTMLElement;
}

/** src/data/playbooks.json: the plays (written in rules/playbooks.ts). */
export interface Playbooks {
  riskPlaybooks: {
    id: string;
    tier: RiskTier;
    name: string;
    timeline: string;
    successCriteria: string;
    steps: {id: string; title: string; startDay: number; endDay: number | null; actions: string[]}[];
  }[];
  renewalStages: {id: string; daysBefore: number | null; name: string; actions: string[]}[];
}

/**
 * Recommended action, the matching playbook steps with the step the account's risk CTA
 * is on, and the account's open CTAs with the due dates fixed when they opened.
 */
export function actionPanel(d: Dossier, playbooks: Playbooks): HTMLElement {
  const tier = actionTier(d.risk_tier, d.model_tier);
  const pb = playbooks.riskPlaybooks.find((p) => p.tier === tier);
  const current = new Set(d.ctas.filter((c) => c.playbook === pb?.name).map((c) => c.step));
  const next = d.ctas[0];
  const stageDays = renewalStage(d.days_to_renewal);
  const stage = stageDays === null ? null : playbooks.renewalStages.find((s) => s.daysBefore === stageDays);
  const why =
    d.model_tier !== d.risk_tier
      ? ` (the more severe of the model tier ${d.model_tier} and the health tier ${d.risk_tier})`
      : "";
  return html`<div id="c360-action">
    <div class="sg-callout"><strong>${recommendedAction(tier)}</strong><br><span class="sg-meta">Playbook: ${pb?.name ?? tier}${why} · ${pb?.timeline ?? ""}${next ? html` · next due <strong class=${next.overdue ? "sg-overdue" : ""}>${formatDate(next.due)}${next.overdue ? " (overdue)" : ""}</strong>` : ""}</span></div>
    ${
      d.ctas.length
        ? html`<table class="sg-table" id="c360-ctas"><thead><tr><th>Due</th><th>Priority</th><th>Play → step</th><th>Why</th></tr></thead><tbody>
        ${d.ctas.map(
          (
            c,
          ) => html`<tr data-overdue=${c.overdue}><td class=${c.overdue ? "sg-overdue" : ""} data-due=${c.due}>${formatDate(c.due)}${c.overdue ? " · overdue" : ""}</td><td>${tierBadge(priorityLabel(c.priority))}</td>
          <td>${c.playbook} → <strong>${c.step}</strong></td><td title=${c.detail}>${c.reason}</td></tr>`,
        )}</tbody></table>`
        : emptyState("No open calls to action for this account.")
    }
    ${
      pb
        ? html`<ol class="sg-steps">${pb.steps.map((s) => html`<li class=${current.has(s.title) ? "sg-current" : ""}><strong>${s.title}</strong> <span class="sg-when">${s.endDay === null ? "ongoing" : s.startDay === s.endDay ? `day ${s.startDay}` : `days ${s.startDay}–${s.endDay}`}${current.has(s.title) ? " · current step" : ""}</span><br>${s.actions.join(" · ")}</li>`)}</ol>
      <p class="sg-meta">Success: ${pb.successCriteria}</p>`
        : ""
    }
    ${stage ? html`<div class="sg-callout" style="margin-top:.5rem"><strong>Renewal playbook — ${stage.name}</strong> (renews ${formatDate(d.renewal_date)})<br>${stage.actions.join(" · ")}</div>` : ""}
  </div>` as HTMLElement;
}

/** Expected loss figures for the KPI row. */
export function accountKpis(d: Dossier): {id: string; title: string; value: string; sub: string; tone?: "alert"}[] {
  const exp = d.churn_probability * d.arr;
  return [
    {id: "arr", title: "ARR", value: formatUsdCompact(d.arr), sub: formatUsd(d.arr)},
    {
      id: "expected-loss",
      title: "Expected loss, 90 days",
      value: formatUsdCompact(exp),
      sub: "P(churn) × ARR",
      tone: "alert",
    },
    {
      id: "health",
      title: "Health score",
      value: `${d.health_score.toFixed(0)}/100`,
      sub: `${d.risk_tier} risk · ARR at risk ${formatUsdCompact(d.arr_at_risk)}`,
    },
    {
      id: "open-tickets",
      title: "Open tickets",
      value: formatInt(d.open_tickets),
      sub: `${formatInt(d.high_priority_tickets_30d)} high-priority in 30 days`,
    },
  ];
}
