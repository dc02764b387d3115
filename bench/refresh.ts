/**
 * The nightly refresh (loaders/refresh.ts) against a full build of the same night: the synthetic
 * portfolio as Parquet files, as a source would deliver it. Last night's files lack tonight's
 * usage; last night is built in full (as of the day before); then tonight's files are built on
 * top of it twice, as a refresh and with --full-refresh on a copy of last night's folder (so both
 * carry the same CTAs over). Both nights run in processes of their own.
 */
import {cpSync, mkdirSync, mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parseGenerateArgs, runGenerate} from "../loaders/cli/generate.ts";
import {lit, openWarehouse} from "../loaders/duckdb.ts";
import {childBuild} from "./child-build.ts";

export interface RefreshFigures {
  customers: number;
  site: boolean;
  refresh: {seconds: number; stages: Record<string, number>};
  full: {seconds: number; stages: Record<string, number>};
  /** refresh seconds / full-build seconds of the same night */
  ratio: number;
}

const dayBefore = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

export async function benchRefresh(customers: number, asOf: string, site: boolean): Promise<RefreshFigures> {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-refresh-"));
  try {
    const tonight = join(dir, "tonight");
    const lastNight = join(dir, "last-night");
    await runGenerate(
      parseGenerateArgs(["--out", tonight, "--customers", String(customers), "--as-of", asOf, "--format", "parquet"]),
      () => {},
    );
    cpSync(tonight, lastNight, {recursive: true});
    const w = await openWarehouse(":memory:");
    try {
      const usage = (d: string) => lit(join(d, "usage_events.parquet"));
      await w.conn.run(
        `COPY (FROM read_parquet(${usage(tonight)}) WHERE event_date < DATE ${lit(asOf)}) TO ${usage(lastNight)} (FORMAT parquet)`,
      );
    } finally {
      w.close();
    }
    const refreshed = join(dir, "refresh");
    mkdirSync(refreshed);
    console.error(`-- last night (${dayBefore(asOf)}), built in full`);
    await childBuild({rawDir: lastNight, asOf: dayBefore(asOf), out: refreshed, site});
    const whole = join(dir, "whole");
    cpSync(refreshed, whole, {recursive: true});
    console.error(`-- tonight (${asOf}), refreshed`);
    const r = await childBuild({rawDir: tonight, asOf, out: refreshed, site});
    console.error(`-- tonight (${asOf}), built in full (--full-refresh)`);
    const f = await childBuild({rawDir: tonight, asOf, out: whole, site, fullRefresh: true});
    return {
      customers,
      site,
      refresh: {seconds: r.seconds, stages: r.stages},
      full: {seconds: f.seconds, stages: f.stages},
      ratio: r.seconds / f.seconds,
    };
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

export function formatRefreshFigures(f: RefreshFigures): string {
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const stages = (s: Record<string, number>) =>
    Object.entries(s)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(", ");
  return [
    `refresh, ${f.customers.toLocaleString("en-US")} customers${f.site ? " (with the site)" : ""}: ${fmt(f.refresh.seconds)} s against a full build's ${fmt(f.full.seconds)} s = ${(f.ratio * 100).toFixed(0)}%`,
    `  refresh: ${stages(f.refresh.stages)}`,
    `  full:    ${stages(f.full.stages)}`,
  ].join("\n");
}
