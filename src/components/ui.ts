/**
 * Building blocks every page uses: the "data as of" line, KPI cards (with change since the
 * previous build), chart cards, tier badges, notes and empty states. All return DOM nodes
 * (htl), so a page writes `${kpiRow([...])}` or `display(...)`.
 */
import {html} from "npm:htl";
import type {RiskTier} from "../rules/config.js";
import {formatDate, formatDateTime, formatInt} from "./format.js";
import {TIER_COLOURS} from "./theme.js";

/** One row of marts.build_info, as the loaders export it. */
export interface BuildInfo {
  built_at: string;
  as_of: string;
  source: string;
  customers: number;
}

/** "Data as of 22 Nov 2026 · built … from synthetic data (3,903 active customers)" — on every page. */
export function buildStamp(build: BuildInfo, lead?: string): HTMLElement {
  return html`<p class="sg-subtitle" id="build-info">${lead ? html`${lead} · ` : ""}data as of <strong>${formatDate(build.as_of)}</strong> · built ${formatDateTime(build.built_at)} from ${build.source} data (${formatInt(build.customers)} active customers)</p>` as HTMLElement;
}

export interface Kpi {
  /** stable id (data-kpi attribute; tests and analysts select by it) */
  id: string;
  title: string;
  value: string;
  sub?: string | Node | null;
  /** colours the value: "alert" (risk), "good" */
  tone?: "alert" | "good";
  /** change since the previous build, already formatted ("+$1.2M"); `better` colours it */
  delta?: {text: string; better: boolean | null; title?: string} | null;
}

/** A responsive row of KPI cards. */
export function kpiRow(kpis: readonly Kpi[]): HTMLElement {
  return html`<div class="grid sg-kpis">${kpis.map(
    (k) => html`<div class="card sg-kpi${k.tone ? ` sg-${k.tone}` : ""}" data-kpi=${k.id}>
      <h2>${k.title}</h2><div class="big">${k.value}</div>
      ${k.sub ? html`<div class="sub">${k.sub}</div>` : ""}
      ${k.delta ? html`<div class=${`sg-delta ${k.delta.better === null ? "" : k.delta.better ? "sg-better" : "sg-worse"}`} title=${k.delta.title ?? "change since the previous build"}>${k.delta.text}</div>` : ""}
    </div>`,
  )}</div>` as HTMLElement;
}

/** A titled chart card; `id` lets tests and readers find it. */
export function chartCard(id: string, title: string, subtitle: string, content: Node | string | null): HTMLElement {
  return html`<div class="card sg-chart" id=${id}><h2>${title}</h2>${subtitle ? html`<h3>${subtitle}</h3>` : ""}${content}</div>` as HTMLElement;
}

/** Coloured tier label (colour plus text, never colour alone). */
export function tierBadge(tier: RiskTier | string | null | undefined): HTMLElement {
  if (!tier) return html`<span class="sg-badge sg-badge-none">—</span>` as HTMLElement;
  const colour = TIER_COLOURS[tier as RiskTier] ?? "#999";
  const dark = tier === "Critical" || tier === "Low";
  return html`<span class="sg-badge" style=${`background:${colour};color:${dark ? "#fff" : "#1b2430"}`}>${tier}</span>` as HTMLElement;
}

/** A short explanatory note under a chart. */
export function note(content: Node | string | null): HTMLElement {
  return html`<p class="sg-meta">${content}</p>` as HTMLElement;
}

/** Shown instead of a chart when there is nothing to draw. */
export function emptyState(message: string): HTMLElement {
  return html`<div class="sg-empty" role="status">${message}</div>` as HTMLElement;
}

/** A finding callout: headline number, sentence, and how it was measured. */
export function findingCard(id: string, headline: string, sentence: Node | string | null, method: string): HTMLElement {
  return html`<div class="card sg-finding" data-finding=${id}><div class="sg-finding-big">${headline}</div>
    <div class="sg-finding-text">${sentence}</div><div class="sg-meta">${method}</div></div>` as HTMLElement;
}
