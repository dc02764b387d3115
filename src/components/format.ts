/** Number and date formatting shared by the dashboard pages (en-US, USD). */

const compactUsd = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  notation: "compact",
  maximumFractionDigits: 1,
});
const fullUsd = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", maximumFractionDigits: 0});
const integer = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
const percent = new Intl.NumberFormat("en-US", {style: "percent", maximumFractionDigits: 1});
const percent0 = new Intl.NumberFormat("en-US", {style: "percent", maximumFractionDigits: 0});

/** $12.3M, $840K */
export const formatUsdCompact = (x: number): string => compactUsd.format(x);
/** $12,345,678 */
export const formatUsd = (x: number): string => fullUsd.format(x);
/** 1,234 */
export const formatInt = (x: number): string => integer.format(x);
/** 12.3% */
export const formatPercent = (x: number): string => percent.format(x);
/** 12% */
export const formatPercent0 = (x: number): string => percent0.format(x);
/** "3.2×" */
export const formatMultiple = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)}×` : "—");
/** "—" for null/undefined/NaN, else `f(x)` */
export const orDash = <T>(x: T | null | undefined, f: (x: T) => string): string =>
  x === null || x === undefined || (typeof x === "number" && !Number.isFinite(x)) ? "—" : f(x);

/** Signed change: "+$1.2M", "−3", "+0.4 pp" (percentage points for shares). */
export function formatDelta(delta: number, kind: "usd" | "int" | "pp"): string {
  if (!Number.isFinite(delta)) return "—";
  const sign = delta > 0 ? "+" : delta < 0 ? "−" : "±";
  const a = Math.abs(delta);
  const body = kind === "usd" ? formatUsdCompact(a) : kind === "int" ? formatInt(a) : `${(a * 100).toFixed(1)} pp`;
  return `${sign}${body}`;
}

/** "20 Nov 2026" from a Date or an ISO date / "YYYY-MM-DD HH:MM:SS" string (read as UTC). */
export function formatDate(value: Date | string): string {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return d.toLocaleDateString("en-GB", {day: "numeric", month: "short", year: "numeric", timeZone: "UTC"});
}

/** "20 Nov" */
export function formatDayMonth(value: Date | string): string {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return d.toLocaleDateString("en-GB", {day: "numeric", month: "short", timeZone: "UTC"});
}

/** "20 Nov 2026, 04:00 UTC" */
export function formatDateTime(value: Date | string): string {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return `${formatDate(d)}, ${d.toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit", timeZone: "UTC"})} UTC`;
}

/** Parses "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS[.ffffff]" as UTC. */
export function parseUtc(s: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s)
    ? `${s}T00:00:00Z`
    : /Z|[+-]\d{2}:?\d{2}$/.test(s)
      ? s.replace(" ", "T")
      : `${s.replace(" ", "T")}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`formatDate: not a date: ${JSON.stringify(s)}`);
  return d;
}

/** A Date (UTC midnight) `days` after `value`. */
export function addDays(value: Date | string, days: number): Date {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return new Date(d.getTime() + days * 86_400_000);
}
