/**
 * The charts, KPI cards and tables report pages (src/reports/) keep drawing, so that a report is
 * its ```sql blocks plus one short call per card. Every chart helper returns a function of the
 * width for Framework's `resize`: `resize(percentCurves(rows, {...}))`. Rows may be what a
 * ```sql block gives (an Arrow table) or an array of objects.
 */
import * as d3 from "npm:d3";
import * as Plot from "npm:@observablehq/plot";
import * as Inputs from "npm:@observablehq/inputs";
import {FileAttachment} from "observablehq:stdlib";
import {formatInt, formatPercent, formatUsdCompact, orDash} from "./format.js";
import {MIN_WIDTH, tierColorScale} from "./theme.js";
import type {BuildInfo, Kpi} from "./ui.js";

/**
 * What else a report uses, so that it imports from one module: ui.ts's cards (the "data as of"
 * line, KPI row, chart card, note), the site's number formats and the risk tiers' colours.
 */
export {buildStamp, chartCard, kpiRow, note} from "./ui.js";
export {formatInt, formatPercent, formatUsdCompact} from "./format.js";
export {tierColorScale} from "./theme.js";

/** The risk tiers' colours (theme.ts, fixed order, colour-blind safe), titled for a legend. */
export const riskTiers: CategoryColor = {...tierColorScale, label: "Risk tier"};

/** A row of a query result: a column name → its value. */
export type Row = Record<string, unknown>;

/** What `resize` draws: the chart for the width the card has. */
export type Chart = (width: number) => SVGSVGElement | HTMLElement;

/** How a number reads: a name for the site's usual formats, or a function. */
export type ValueFormat = "int" | "percent" | "usd" | ((x: number) => string);

/** The formatter for `format` (the site's formats, so a report reads like the dashboards). */
export function formatter(format: ValueFormat): (x: number) => string {
  if (typeof format === "function") return format;
  return {int: formatInt, percent: formatPercent, usd: formatUsdCompact}[format];
}

/**
 * The build's record (data/build_info.json): its as-of date for a report's SQL
 * (`${build.as_of}`) and the "data as of" line (`buildStamp(build, lead)`).
 */
export const build = (await FileAttachment("../data/build_info.json").json()) as BuildInfo;

/** snake_case values ("low_adoption") shown as words ("low adoption") on axes and legends. */
export const words = (value: unknown): string => String(value).replaceAll("_", " ");

/**
 * A KPI card for ui.ts's kpiRow: `value` formatted (then `unit`, e.g. "months"), or a dash when
 * the query had no rows to measure (null, undefined or NaN), so an empty period never reads as zero.
 */
export function kpi(
  id: string,
  title: string,
  value: number | null | undefined,
  format: ValueFormat,
  {unit, ...more}: Pick<Kpi, "sub" | "tone"> & {unit?: string} = {},
): Kpi {
  const x = typeof value === "number" && Number.isNaN(value) ? null : value;
  const f = formatter(format);
  return {id, title, value: orDash(x, unit ? (v) => `${f(v)} ${unit}` : f), ...more};
}

/**
 * The distinct values of `key`, sorted by the number in `orderKey` (e.g. churn reasons by the
 * vocabulary's order): legends and stacks then keep one meaningful order whatever the data holds.
 */
export function orderedValues(rows: Iterable<Row>, key: string, orderKey: string): string[] {
  const order = new Map<string, number>();
  for (const r of rows) if (!order.has(String(r[key]))) order.set(String(r[key]), Number(r[orderKey]));
  return d3.sort(order.keys(), (v) => order.get(v)!);
}

/** A categorical colour scale with a legend. `domain` fixes the legend's and the stacks' order. */
export interface CategoryColor {
  domain: readonly string[];
  range?: readonly string[];
  scheme?: string;
  label?: string;
  legend?: boolean;
  tickFormat?: (value: string) => string;
}

/** Colours for categories in the given order (Tableau 10 unless `scheme`), values shown as words. */
export function categoryColor(domain: Iterable<string>, label: string, scheme = "tableau10"): CategoryColor {
  return {domain: [...domain], scheme, label, legend: true, tickFormat: words};
}

const colorOptions = (color: CategoryColor) =>
  ({tickFormat: words, legend: true, ...color, domain: [...color.domain]}) as Plot.ScaleOptions;

const tickFormatOf = (format: ValueFormat | string | undefined) =>
  format === undefined || typeof format === "function" || !["int", "percent", "usd"].includes(format)
    ? (format as Plot.ScaleOptions["tickFormat"])
    : formatter(format as ValueFormat);

export interface CurveOptions {
  /** the whole number of periods since the start (e.g. quarters since signup) */
  x: string;
  /** a share, 0–1: drawn as a percentage */
  y: string;
  /** one curve per value (e.g. signup cohort), coloured in order of first appearance */
  series: string;
  /** y-axis label, e.g. "Accounts retained (%)" */
  label: string;
  xLabel?: string;
  /** the legend's title */
  legend?: string;
  height?: number;
  /** more fields for the tooltip: title → column */
  tip?: Record<string, string>;
}

/**
 * Curves of a share over periods, one per series, on a percent axis from 0 with a dashed line at
 * 100 % (retention curves by cohort, adoption by release...). The axis stretches above 100 % when
 * a series exceeds it (net retention with expansion). Series are coloured along viridis, so
 * consecutive cohorts get neighbouring colours.
 */
export function percentCurves(rows: Iterable<Row>, o: CurveOptions): Chart {
  const data = Array.from(rows);
  const names = [...new Set(data.map((r) => String(r[o.series])))];
  const top = Math.max(105, ...data.map((r) => Number(r[o.y]) * 100));
  const last = d3.max(data, (r) => Number(r[o.x])) ?? 0;
  return (width) =>
    Plot.plot({
      width: Math.max(width, MIN_WIDTH),
      height: o.height ?? 320,
      y: {percent: true, label: o.label, grid: true, domain: [0, top]},
      x: {label: o.xLabel, ticks: d3.range(0, last + 1), tickFormat: "d"},
      color: {
        domain: names,
        range: d3.quantize((t) => d3.interpolateViridis(t * 0.85), Math.max(names.length, 2)),
        legend: true,
        label: o.legend,
      },
      marks: [
        Plot.ruleY([1], {strokeDasharray: "4,3"}),
        Plot.line(data, {x: o.x, y: o.y, stroke: o.series}),
        Plot.dot(data, {x: o.x, y: o.y, fill: o.series, r: 2.5, tip: true, channels: o.tip}),
      ],
    });
}

/**
 * Retention curves by signup cohort over a published cohort_retention table (its `cohort`,
 * `quarters_since_signup` and `logos_start` columns): `y` is a share of the cohort's start.
 */
export function cohortCurves(rows: Iterable<Row>, y: string, label: string): Chart {
  return percentCurves(rows, {
    x: "quarters_since_signup",
    y,
    series: "cohort",
    label,
    legend: "Signup quarter",
    xLabel: "Quarters after the signup quarter →",
    tip: {"Accounts at signup": "logos_start"},
  });
}

export interface BarOptions {
  /** the categories along the bottom, a column of stacked bars each (e.g. quarter)… */
  x?: string;
  /** …or down the side, a horizontal bar each (e.g. CSM) */
  y?: string;
  /** the measure summed in each segment (long rows: a row per category and segment) */
  value?: string;
  /** the column naming each row's segment (long rows) */
  fill?: string;
  /**
   * or, for wide rows (a column per segment, e.g. ARR per risk tier): the columns to stack; by
   * default, without `value`, the columns named by `color`'s domain
   */
  columns?: readonly string[];
  /** the segments' colours; its domain is the legend's and every stack's order */
  color?: CategoryColor;
  /**
   * without `color`: the column ordering fill's values; by default `<fill>_order` when the rows
   * have it (e.g. reason_order), else the values' own order. Colours are Tableau 10.
   */
  fillOrder?: string;
  /** the legend's title */
  legend?: string;
  /** the measure axis' label */
  label?: string;
  /** the category axis' label (none for horizontal bars unless given) */
  categoryLabel?: string | null;
  /** ticks of the measure axis */
  format?: ValueFormat | string;
  /**
   * the categories' order: by default the rows' (order them in SQL); "-value" the longest bar
   * first; or the categories in order (only those are drawn)
   */
  order?: "-value" | readonly string[];
  marginLeft?: number;
  /** horizontal bars: the height of each bar, so the chart grows with the number of bars */
  barHeight?: number;
  /** vertical bars: 300 unless given */
  height?: number;
}

/**
 * Stacked bars per category: vertical with `x` (e.g. churn by quarter), horizontal with `y`
 * (e.g. ARR by CSM), each bar `value` summed by `fill`, or the `columns` of wide rows. Segments
 * always stack in the colour domain's order, so every bar stacks alike and reads against the
 * legend; snake_case categories and segments are shown as words.
 */
export function stackedBars(rows: Iterable<Row>, o: BarOptions): Chart {
  const across = o.y !== undefined;
  const category = (across ? o.y : o.x)!;
  // wide rows: a column per segment, named by `columns` or else by the colour domain
  const columns = o.columns ?? (o.value === undefined ? o.color?.domain : undefined);
  const data: Row[] = columns
    ? columns.flatMap((c) => Array.from(rows, (r) => ({[category]: r[category], segment: c, value: r[c]})))
    : Array.from(rows);
  const [value, fill] = columns ? ["value", "segment"] : [o.value!, o.fill!];
  const fillOrder = o.fillOrder ?? (data.length && `${fill}_order` in data[0]! ? `${fill}_order` : undefined);
  const color =
    o.color ??
    categoryColor(
      fillOrder ? orderedValues(data, fill, fillOrder) : d3.sort(new Set(data.map((r) => String(r[fill])))),
      o.legend ?? "",
    );
  const domain =
    typeof o.order === "object"
      ? [...o.order]
      : o.order
        ? undefined
        : [...new Set(data.map((r) => String(r[category])))];
  const shown = domain ? data.filter((r) => domain.includes(String(r[category]))) : data;
  const bars = domain?.length ?? new Set(shown.map((r) => r[category])).size;
  const categories = {label: o.categoryLabel ?? null, domain, tickFormat: words};
  const measure = {label: o.label, grid: true, tickFormat: tickFormatOf(o.format)};
  const channels = {fill, order: [...color.domain], tip: true};
  return (width) =>
    Plot.plot({
      width: Math.max(width, MIN_WIDTH),
      ...(across
        ? {
            marginLeft: o.marginLeft ?? 130,
            height: o.barHeight ? o.barHeight * bars + 70 : o.height,
            x: measure,
            y: categories,
          }
        : {height: o.height ?? 300, x: categories, y: measure}),
      color: colorOptions(o.legend && o.color ? {...color, label: o.legend} : color),
      marks: across
        ? [
            Plot.barX(
              shown,
              Plot.groupY(
                {x: "sum"},
                {y: category, x: value, ...channels, sort: o.order === "-value" ? {y: "-x"} : undefined},
              ),
            ),
            Plot.ruleX([0]),
          ]
        : [Plot.barY(shown, Plot.groupX({y: "sum"}, {x: category, y: value, ...channels})), Plot.ruleY([0])],
    });
}

export interface HistogramOptions {
  /** the number binned along x (e.g. months as a customer) */
  x: string;
  /** bin width, in x's units */
  interval: number;
  /** the column whose values stack in each bin */
  fill: string;
  /** the legend's title */
  legend: string;
  xLabel?: string;
  yLabel?: string;
}

/** Counts of rows by bins of `x`, stacked by `fill` (e.g. tenure at churn by plan). */
export function stackedHistogram(rows: Iterable<Row>, o: HistogramOptions): Chart {
  const data = Array.from(rows);
  return (width) =>
    Plot.plot({
      width: Math.max(width, MIN_WIDTH),
      color: {legend: true, label: o.legend},
      x: {label: o.xLabel},
      y: {label: o.yLabel ?? "Accounts", grid: true},
      marks: [
        Plot.rectY(
          data,
          Plot.binX({y: "count"}, {
            x: o.x,
            fill: o.fill,
            interval: o.interval,
            tip: true,
          } as Plot.BinXInputs<Plot.RectYOptions>),
        ),
        Plot.ruleY([0]),
      ],
    });
}

/**
 * A table of rows as the query names its columns (name them as they should read, e.g.
 * `AS "Renewal ARR"`), the money columns (`usd`) shown compactly ($1.2M) as the dashboards do.
 */
export function moneyTable(rows: Iterable<Row>, usd: readonly string[], visibleRows = 16): HTMLElement {
  const format = Object.fromEntries(usd.map((k) => [k, formatUsdCompact]));
  return Inputs.table(Array.from(rows), {rows: visibleRows, format} as Inputs.TableOptions<Row>);
}
