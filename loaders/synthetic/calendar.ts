/**
 * Calendar helpers on integer day numbers (days since 1970-01-01, UTC), the representation the
 * generator uses everywhere: cheap to compare, to add to, and what DuckDB's DATE stores.
 */

const MS_PER_DAY = 86_400_000;

export function parseIsoDate(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`invalid date "${s}": expected YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    throw new Error(`invalid date "${s}": no such calendar day`);
  return Math.round(ms / MS_PER_DAY);
}

export function isoDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** [year, month 0–11, day 1–31] of a day number */
export function ymd(day: number): [number, number, number] {
  const d = new Date(day * MS_PER_DAY);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}

export function dayOf(year: number, month0: number, date: number): number {
  return Math.round(Date.UTC(year, month0, date) / MS_PER_DAY);
}

export function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Same day-of-month n months later, clamped to the month's length (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(day: number, n: number): number {
  const [y, m, d] = ymd(day);
  const total = y * 12 + m + n;
  const ny = Math.floor(total / 12);
  const nm = total - ny * 12;
  return dayOf(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export function firstOfMonth(day: number): number {
  const [y, m] = ymd(day);
  return dayOf(y, m, 1);
}

export function lastOfMonth(day: number): number {
  const [y, m] = ymd(day);
  return dayOf(y, m, daysInMonth(y, m));
}

/** The first day of the month after `day`'s month, or `day` itself when it is already a 1st. */
export function nextFirstOfMonth(day: number): number {
  const [y, m, d] = ymd(day);
  return d === 1 ? day : dayOf(y, m + 1, 1);
}

/**
 * The generator's month grid: month k = 0 holds the first day of history; month K−1 holds as-of.
 * Months beyond K−1 exist too (the truth probabilities look 90 days past as-of).
 */
export class MonthGrid {
  readonly startDay: number;
  readonly asOf: number;
  readonly count: number;
  private readonly y0: number;
  private readonly m0: number;
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(asOf: number, months: number) {
    this.asOf = asOf;
    this.startDay = addMonths(asOf, -months) + 1;
    const [y, m] = ymd(this.startDay);
    this.y0 = y;
    this.m0 = m;
    const [ya, ma] = ymd(asOf);
    this.count = ya * 12 + ma - (y * 12 + m) + 1;
    for (let k = 0; k < this.count + 6; k++) {
      this.starts.push(dayOf(y, m + k, 1));
      this.ends.push(dayOf(y, m + k + 1, 0));
    }
  }

  start(k: number): number {
    return k >= 0 && k < this.starts.length ? this.starts[k]! : dayOf(this.y0, this.m0 + k, 1);
  }

  end(k: number): number {
    return k >= 0 && k < this.ends.length ? this.ends[k]! : dayOf(this.y0, this.m0 + k + 1, 0);
  }

  /** month index of a day (negative before history) */
  indexOf(day: number): number {
    const [y, m] = ymd(day);
    return y * 12 + m - (this.y0 * 12 + this.m0);
  }

  /**
   * The truth/training cutoffs: the 1st of every month after the first one of history, plus as-of.
   * Each comes with `known`: the last month whose latent health is already realised at the cutoff
   * (the months that started before it).
   */
  cutoffs(): {day: number; known: number}[] {
    const out: {day: number; known: number}[] = [];
    for (let k = 1; k < this.count; k++) out.push({day: this.start(k), known: k - 1});
    if (this.start(this.count - 1) !== this.asOf) out.push({day: this.asOf, known: this.count - 1});
    return out;
  }
}
