/** Number and date formatting shared by the dashboard pages (en-US, USD). */

const compactUsd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });
const fullUsd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

/** $12.3M, $840K */
export const formatUsdCompact = (x: number): string => compactUsd.format(x);
/** $12,345,678 */
export const formatUsd = (x: number): string => fullUsd.format(x);
/** 1,234 */
export const formatInt = (x: number): string => integer.format(x);
/** 12.3% */
export const formatPercent = (x: number): string => percent.format(x);

/** "20 Nov 2026" from a Date or an ISO date / "YYYY-MM-DD HH:MM:SS" string (read as UTC). */
export function formatDate(value: Date | string): string {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** "20 Nov 2026, 04:00 UTC" */
export function formatDateTime(value: Date | string): string {
  const d = typeof value === "string" ? parseUtc(value) : value;
  return `${formatDate(d)}, ${d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" })} UTC`;
}

function parseUtc(s: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : /Z|[+-]\d{2}:?\d{2}$/.test(s) ? s.replace(" ", "T") : `${s.replace(" ", "T")}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`formatDate: not a date: ${JSON.stringify(s)}`);
  return d;
}
