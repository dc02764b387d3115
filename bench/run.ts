/**
 * `npm run bench [-- --sizes 5000,100000 --only build,marts]`
 *
 * Measures the targets set in the issues on this machine, prints a table with PASS/FAIL per
 * target, and writes every figure to bench/results/latest.json. Exits 1 if a target is missed.
 */
import {execFileSync} from "node:child_process";
import {cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {cpus, totalmem, tmpdir} from "node:os";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {todayUtc} from "../loaders/build.ts";
import {martsOverhead} from "./marts-overhead.ts";
import {benchModel} from "./training.ts";
import {benchHealth, type HealthFigures} from "./health.ts";
import {benchAlerts} from "./alerts.ts";
import {benchEffectiveness, formatEffectiveness, type EffectivenessFigures} from "./effectiveness.ts";
import {apiTargets, benchApi, formatApiFigures, type ApiBenchFigures} from "./api.ts";
import {benchCtas, formatCtaFigures, type CtaBenchFigures} from "./ctas.ts";
import {benchPages, WARM_VISITS, type PagesBench} from "./pages.ts";
import {timeIngest, writeEventLog, writeMappedPortfolio, type EventFormat, type EventsFigure} from "./events.ts";
import {benchCapacity, formatCapacityFigures, type CapacityFigures} from "./capacity.ts";
import {benchBulk, bulkTargets, formatBulkFigures, type BulkBenchFigures} from "./bulk.ts";
import {growthLines, type SizedBuild} from "./growth.ts";
import {childBuild} from "./child-build.ts";
import {benchRefresh, formatRefreshFigures, type RefreshFigures} from "./refresh.ts";
import {benchExtract, formatExtractFigures, type ExtractFigures} from "./extract.ts";
import {benchForecastRecord, FORECAST_SEEDS, type ForecastBench} from "./forecast.ts";

const PARTS = [
  "build",
  "marts",
  "pages",
  "model",
  "health",
  "api",
  "bulk",
  "alerts",
  "events",
  "ingest",
  "capacity",
  "ctas",
  "effectiveness",
  "extract",
  "refresh",
  "forecast",
] as const;
const USAGE = `usage: npm run bench -- [--sizes 5000,20000,100000,1000000] [--only ${PARTS.join(",")}] [--events 50000000] [--keep DIR]`;
let values: {sizes: string; only: string; events: string; keep?: string; help: boolean};
try {
  ({values} = parseArgs({
    options: {
      sizes: {type: "string", default: "5000,100000"},
      only: {type: "string", default: PARTS.join(",")},
      events: {type: "string", default: "50000000"},
      // keep each size's built folder (warehouse, site) in DIR/<size> to study it afterwards
      keep: {type: "string"},
      help: {type: "boolean", default: false},
    },
    strict: true,
  }));
} catch (e) {
  console.error(`bench: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const sizes = values.sizes.split(",").map(Number);
const only = new Set(values.only.split(","));
const unknown = [...only].filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length || sizes.some((n) => !Number.isInteger(n) || n < 10)) {
  console.error(
    `bench: ${unknown.length ? `unknown part(s) ${unknown.join(", ")}` : `--sizes must be whole numbers ≥ 10`}\n${USAGE}`,
  );
  process.exit(2);
}
const asOf = todayUtc();

interface Target {
  name: string;
  value: number;
  unit: string;
  limit: number;
  /** "max": value must be ≤ limit; "min": value must be ≥ limit */
  kind: "max" | "min";
}
const targets: Target[] = [];
const figures: Record<string, unknown> = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  asOf,
};

const work = mkdtempSync(join(tmpdir(), "saasguard-bench-"));
try {
  for (const n of sizes) {
    if (!["build", "marts", "pages", "model", "health", "api", "bulk", "capacity", "ctas"].some((p) => only.has(p)))
      break;
    const out = join(work, String(n));
    mkdirSync(out);
    // the default build goes through dist/; larger ones too when the pages are measured on them
    const site = n <= 5000 || only.has("pages");
    console.error(
      `\n== build, ${n.toLocaleString("en-US")} customers${site ? " (data through dist/)" : " (data through marts)"}`,
    );
    let r: Awaited<ReturnType<typeof childBuild>>;
    try {
      r = await childBuild({customers: n, asOf, out, site});
    } catch (e) {
      // a size that does not build is a result, not the end of the run: the others still report
      figures[`failed_build_${n}`] = {error: (e as Error).message};
      targets.push({name: `the build of ${n} customers completes`, value: 0, unit: "", limit: 1, kind: "min"});
      console.error((e as Error).message);
      continue;
    }
    const rawRows = Object.values(r.rawRows).reduce((a, b) => a + b, 0);
    const dataSeconds = r.seconds - (r.stages.site ?? 0);
    // "Marts" starts once the raw tables are in the warehouse: the synthetic generator (or the
    // file ingest) stands in for the nightly extract and is timed on its own.
    const rawSeconds = (r.stages.generate ?? 0) + (r.stages.validate ?? 0) + (r.stages.ingest ?? 0);
    const martSeconds = dataSeconds - rawSeconds;
    figures[`build_${n}`] = {
      seconds: r.seconds,
      dataSeconds,
      rawSeconds,
      martSeconds,
      stages: r.stages,
      peakRssGiB: r.peakRssBytes / 2 ** 30,
      sampledPeak: r.sampledPeak,
      rawRows,
      rawRowsPerSecond: rawRows / dataSeconds,
      marts: r.marts,
    };
    // the 60 s budget is the default demo build's (5,000 customers); larger sizes are judged on their marts
    if (n <= 5000)
      targets.push({
        name: `default build, ${n} customers, data → dist/`,
        value: r.seconds,
        unit: "s",
        limit: 60,
        kind: "max",
      });
    else if (n < 1_000_000) {
      targets.push({
        name: `marts for ${n} customers (raw tables → all marts, scored and checked)`,
        value: martSeconds,
        unit: "s",
        limit: 180,
        kind: "max",
      });
      targets.push({
        name: `peak memory, ${n} customers`,
        value: r.peakRssBytes / 2 ** 30,
        unit: "GiB",
        limit: 6,
        kind: "max",
      });
    } else {
      // a million customers: 20 minutes and 8 GB (DuckDB spills beyond its memory cap)
      targets.push({
        name: `marts for ${n} customers (raw tables → all marts, scored and checked)`,
        value: martSeconds / 60,
        unit: "min",
        limit: 20,
        kind: "max",
      });
      targets.push({
        name: `peak memory, ${n} customers`,
        value: r.peakRssBytes / 1e9,
        unit: "GB",
        limit: 8,
        kind: "max",
      });
    }
    if (only.has("pages") && site) {
      console.error(`== pages in headless Chromium, ${n.toLocaleString("en-US")} customers`);
      const p = await benchPages(join(out, "dist"));
      figures[`pages_${n}`] = p;
      for (const c of p.checks)
        targets.push({name: `${c.name} (${n})`, value: c.value, unit: c.unit, limit: c.limit, kind: "max"});
    }
    // (at a million customers the bare-DuckDB comparison would run the marts twice more: skipped)
    if (only.has("marts") && n < 1_000_000) {
      console.error(`== mart SQL: pipeline vs one DuckDB script, ${n.toLocaleString("en-US")} customers`);
      const o = await martsOverhead(join(out, "warehouse.duckdb"), asOf, n > 20_000 ? 1 : 3);
      figures[`marts_overhead_${n}`] = o;
      targets.push({
        name: `pipeline overhead over bare DuckDB, ${n} customers`,
        value: o.ratio,
        unit: "×",
        limit: 1.25,
        kind: "max",
      });
    }
    if (only.has("model")) {
      console.error(
        `== model: training, metrics and scoring + TreeSHAP of 100,000 accounts, ${n.toLocaleString("en-US")} customers`,
      );
      const m = await benchModel(join(out, "warehouse.duckdb"), asOf);
      figures[`model_${n}`] = m;
      if (n <= 5000)
        targets.push(
          {
            name: `training on the default data (${n} customers)`,
            value: m.trainSeconds,
            unit: "s",
            limit: 60,
            kind: "max",
          },
          {
            name: `training the expansion model on the default data (${n} customers)`,
            value: m.expansion.trainSeconds,
            unit: "s",
            limit: 60,
            kind: "max",
          },
          {
            name: `training the churn horizon model on the default data (${n} customers)`,
            value: m.horizon.trainSeconds,
            unit: "s",
            limit: 60,
            kind: "max",
          },
        );
      targets.push({
        name: `scoring + TreeSHAP, ${m.scoredAccounts} accounts (model of ${n})`,
        value: m.scoreWithShapSeconds,
        unit: "s",
        limit: 10,
        kind: "max",
      });
      if (m.truthAuc !== null)
        targets.push({
          name: `test ROC-AUC / truth AUC (${n})`,
          value: m.rocAuc / m.truthAuc,
          unit: "×",
          limit: 0.97,
          kind: "min",
        });
      targets.push({name: `ECE on test cutoffs (${n})`, value: m.ece, unit: "", limit: 0.02, kind: "max"});
      targets.push({
        name: `trees AUC − baseline AUC (${n})`,
        value: m.rocAuc - m.baselineRocAuc,
        unit: "",
        limit: 0,
        kind: "min",
      });
    }
    if (only.has("health") && n <= 20_000) {
      console.error(
        `== health score: hand-set vs tuned on the model's test cutoffs, ${n.toLocaleString("en-US")} customers`,
      );
      const h = await benchHealth(join(out, "warehouse.duckdb"), "models");
      figures[`health_${n}`] = h;
      targets.push(
        {
          name: `tuned health score: lowest ROC-AUC over the test cutoffs (${n})`,
          value: Math.min(...h.perCutoff.map((c) => c.after.auc)),
          unit: "",
          limit: 0.8,
          kind: "min",
        },
        {
          name: `tuned health score: most churned scored healthy on a test cutoff (${n})`,
          value: Math.max(...h.perCutoff.map((c) => c.after.churnedHealthyShare)),
          unit: "",
          limit: 0.2,
          kind: "max",
        },
      );
    }
    if (only.has("capacity")) {
      console.error(`== CSM queues against their weekly capacity, ${n.toLocaleString("en-US")} customers`);
      const c = await benchCapacity(join(out, "warehouse.duckdb"));
      figures[`capacity_${n}`] = c;
      // the issue's target: every CSM's week holds only what fits, and no digested CTA is worth more than one kept
      targets.push(
        {
          name: `CSMs whose week holds more than their hours (${n})`,
          value: c.weeksOverCapacity,
          unit: "",
          limit: 0,
          kind: "max",
        },
        {
          name: `digested CTAs worth more per hour than one kept by the same CSM (${n})`,
          value: c.digestWorthMoreThanKept,
          unit: "",
          limit: 0,
          kind: "max",
        },
      );
    }
    if (only.has("api") && n <= 5000) {
      console.error(`== API: load test from a second process on 127.0.0.1, ${n.toLocaleString("en-US")} customers`);
      const a = await benchApi({
        warehousePath: join(out, "warehouse.duckdb"),
        modelsDir: "models",
        log: (m) => console.error(m),
      });
      figures.api = a;
      targets.push(...apiTargets(a));
    }
    if (only.has("bulk")) {
      // every size's build, the 100,000-customer one included: no build of its own
      console.error(
        `== bulk export through the API (paginated JSON and one NDJSON stream), ${n.toLocaleString("en-US")} customers`,
      );
      const b = await benchBulk({
        warehousePath: join(out, "warehouse.duckdb"),
        modelsDir: "models",
        log: (m) => console.error(m),
      });
      figures[`bulk_${n}`] = b;
      // the target is the issue's 100,000 accounts: judged on the large build (a small one is mostly fixed costs)
      if (n >= 100_000) targets.push(...bulkTargets(b));
    }
    if (only.has("ctas") && n <= 5000) {
      console.error(`== CTA work through the API during a nightly build, ${n.toLocaleString("en-US")} customers`);
      const c = await benchCtas({dir: out, customers: n, asOf});
      figures.ctas = c;
      targets.push(
        {name: "CTA writes lost during a nightly build", value: c.lostWrites, unit: "", limit: 0, kind: "max"},
        {
          name: "CTA requests answered 5xx during a build",
          value: c.list.status5xx + c.patch.status5xx,
          unit: "",
          limit: 0,
          kind: "max",
        },
      );
    }
    if (values.keep) {
      mkdirSync(values.keep, {recursive: true});
      const kept = join(values.keep, String(n));
      try {
        renameSync(out, kept);
      } catch {
        // another file system
        cpSync(out, kept, {recursive: true});
        rmSync(out, {recursive: true, force: true});
      }
      console.error(`kept ${kept}`);
    } else rmSync(out, {recursive: true, force: true});
  }
} finally {
  rmSync(work, {recursive: true, force: true});
}

if (only.has("alerts")) {
  console.error("\n== alerts: deliveries per second and draining a 10,000-alert outbox to a local receiver");
  figures.alerts = await benchAlerts();
}

// measured playbook effectiveness against the synthetic truth (generates its own portfolios)
if (only.has("effectiveness"))
  for (const n of sizes.filter((x) => x <= 20_000)) {
    console.error(
      `\n== measured playbook effectiveness vs the synthetic truth, ${n.toLocaleString("en-US")} customers (and coverage over 10 seeds)`,
    );
    const e = await benchEffectiveness(n, asOf);
    figures[`effectiveness_${n}`] = e;
    targets.push({
      name: `effectiveness intervals covering the true effect, ${e.coverage.cases} (seed, playbook) cases (${n})`,
      value: e.coverage.churnReduction,
      unit: "",
      limit: 0.85,
      kind: "min",
    });
  }

if (only.has("ingest"))
  for (const n of sizes) {
    console.error(
      `\n== ingest through a source mapping, ${n.toLocaleString("en-US")} customers as CSV exports (CRM column names, the team's plan names)`,
    );
    const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-ingest-"));
    try {
      const {mapping, rows} = await writeMappedPortfolio(dir, {customers: n, asOf});
      const r = await timeIngest(mapping, asOf);
      figures[`ingest_${n}`] = {
        customers: n,
        rows,
        seconds: r.seconds,
        rowsPerSecond: rows / r.seconds,
        peakRssBytes: r.peakRssBytes,
      };
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }

if (only.has("events")) {
  const events = Number(values.events);
  const accounts = 5000;
  console.error(
    `\n== raw event logs: ${events.toLocaleString("en-US")} Segment-style events over ${accounts.toLocaleString("en-US")} accounts → daily usage (the whole ingest, its own process)`,
  );
  const ev: EventsFigure[] = [];
  for (const format of ["parquet", "csv", "jsonl"] as EventFormat[]) {
    const dir = mkdtempSync(join(tmpdir(), "saasguard-bench-events-"));
    try {
      const mapping = await writeEventLog(dir, {events, accounts, asOf, format});
      const r = await timeIngest(mapping, asOf);
      ev.push({format, events, accounts, ...r, eventsPerSecond: events / r.seconds});
      // the target is Parquet's and CSV's; JSON Lines is reported on its own
      if (format !== "jsonl")
        targets.push(
          {
            name: `${events / 1e6}M events from ${format} → daily usage`,
            value: r.seconds,
            unit: "s",
            limit: 60,
            kind: "max",
          },
          {
            name: `${events / 1e6}M events from ${format}: peak RSS`,
            value: r.peakRssBytes / 2 ** 30,
            unit: "GiB",
            limit: 4,
            kind: "max",
          },
        );
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  }
  figures.events = ev;
}

if (only.has("extract")) {
  const n = 1000;
  console.error(
    `\n== extraction from PostgreSQL: ${n.toLocaleString("en-US")} customers as an application database (raw events), the first night and the next`,
  );
  // a figure, not the issue's refresh target: that one is the whole nightly refresh's
  figures.extract = await benchExtract(n, asOf);
}

if (only.has("refresh")) {
  const refreshes: RefreshFigures[] = [];
  for (const n of sizes.filter((s) => s <= 100_000)) {
    // the issue's targets: the whole nightly refresh with the site at 5,000; a fifth of a full build at 100,000
    const site = n <= 5000;
    console.error(`\n== nightly refresh, ${n.toLocaleString("en-US")} customers (one more day of usage)`);
    const r = await benchRefresh(n, asOf, site);
    refreshes.push(r);
    if (site)
      targets.push({
        name: `nightly refresh with the site, ${n} customers`,
        value: r.refresh.seconds,
        unit: "s",
        limit: 30,
        kind: "max",
      });
    if (n >= 100_000)
      targets.push({
        name: `nightly refresh / full build, ${n} customers`,
        value: r.ratio * 100,
        unit: "%",
        limit: 20,
        kind: "max",
      });
  }
  figures.refresh = refreshes;
}

if (only.has("forecast")) {
  // the issue's targets, on the default size: 80% intervals hold the actual GRR in 70–90% of the
  // closed quarter × group cells, and the median's GRR error is below the naive forecast's
  const n = Math.min(...sizes.filter((s) => s <= 5000), 5000);
  console.error(
    `\n== retention forecast: the record of back-filled quarters, ${n.toLocaleString("en-US")} customers, seeds ${FORECAST_SEEDS.join(", ")}`,
  );
  const f = await benchForecastRecord(n, asOf, (m) => console.error(m));
  figures.forecast = f;
  targets.push(
    {
      name: `forecast record: actual GRR in the 80% interval, pooled cells (${n})`,
      value: f.pooled.grrIn80,
      unit: "",
      limit: 0.7,
      kind: "min",
    },
    {
      name: `forecast record: actual GRR in the 80% interval, pooled cells (${n})`,
      value: f.pooled.grrIn80,
      unit: "",
      limit: 0.9,
      kind: "max",
    },
    {
      name: `forecast record: GRR error − naive forecast's, pooled cells (${n})`,
      value: (f.pooled.grrError - f.pooled.naiveGrrError) * 100,
      unit: "pp",
      limit: 0,
      kind: "max",
    },
  );
}

// ---- report
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
console.log(
  `\nSaaSGuard benchmarks — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
);
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("build_")) continue;
  const b = v as {
    seconds: number;
    rawSeconds: number;
    martSeconds: number;
    stages: Record<string, number>;
    peakRssGiB: number;
    sampledPeak?: {bytes: number; after: string};
    rawRows: number;
    rawRowsPerSecond: number;
  };
  console.log(
    `${k.padEnd(14)} total ${fmt(b.seconds)} s = raw data ${fmt(b.rawSeconds)} s + marts ${fmt(b.martSeconds)} s${b.stages.site ? ` + site ${fmt(b.stages.site)} s` : ""} | ${Object.entries(
      b.stages,
    )
      .map(([s, t]) => `${s} ${fmt(t)} s`)
      .join(
        " | ",
      )} | peak ${fmt(b.peakRssGiB)} GiB | ${b.rawRows.toLocaleString("en-US")} raw rows (${Math.round(b.rawRowsPerSecond).toLocaleString("en-US")} rows/s)`,
  );
  if (b.sampledPeak?.after)
    console.log(
      `${"".padEnd(14)} highest sample ${fmt(b.sampledPeak.bytes / 2 ** 30)} GiB, after: ${b.sampledPeak.after}`,
    );
}
for (const [k, v] of Object.entries(figures))
  if (k.startsWith("failed_build_")) console.log(`${k.padEnd(14)} ${(v as {error: string}).error}`);
for (const line of growthLines(
  Object.entries(figures)
    .filter(([k]) => k.startsWith("build_"))
    .map(([k, v]) => {
      const b = v as Omit<SizedBuild, "customers">;
      return {customers: Number(k.slice("build_".length)), ...b};
    }),
))
  console.log(line);
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("model_")) continue;
  const m = v as {
    trainSeconds: number;
    rocAuc: number;
    baselineRocAuc: number;
    truthAuc: number | null;
    ece: number;
    trees: number;
    scoredAccounts: number;
    scoreWithShapSeconds: number;
    accountsPerSecond: number;
    expansion?: {trainSeconds: number; rocAuc: number; baselineRocAuc: number; ece: number; trees: number};
    horizon?: {
      trainSeconds: number;
      rocAuc: number;
      baselineRocAuc: number;
      ece: number;
      trees: number;
      backtest: {cutoff: string; months: number; accounts: number; predicted: number; observed: number; auc: number}[];
    };
  };
  console.log(
    `${k.padEnd(14)} train ${fmt(m.trainSeconds)} s (${m.trees} trees) | test AUC ${m.rocAuc.toFixed(3)} vs baseline ${m.baselineRocAuc.toFixed(3)} vs truth ${m.truthAuc?.toFixed(3) ?? "—"} | ECE ${m.ece.toFixed(4)} | score+SHAP ${m.scoredAccounts.toLocaleString("en-US")} accounts in ${fmt(m.scoreWithShapSeconds)} s (${Math.round(m.accountsPerSecond).toLocaleString("en-US")}/s)`,
  );
  const e = m.expansion;
  if (e)
    console.log(
      `${"".padEnd(14)} expansion model: train ${fmt(e.trainSeconds)} s (${e.trees} trees) | test AUC ${e.rocAuc.toFixed(3)} vs baseline ${e.baselineRocAuc.toFixed(3)} | ECE ${e.ece.toFixed(4)}`,
    );
  const h = m.horizon;
  if (h)
    console.log(
      `${"".padEnd(14)} churn horizon model: train ${fmt(h.trainSeconds)} s (${h.trees} trees) | monthly hazard test AUC ${h.rocAuc.toFixed(3)} vs baseline ${h.baselineRocAuc.toFixed(3)} | ECE ${h.ece.toFixed(4)} | ${h.backtest.map((b) => `${b.months} months from ${b.cutoff}: expected ${Math.round(b.predicted * b.accounts)} churns, ${Math.round(b.observed * b.accounts)} happened, AUC ${b.auc.toFixed(3)}`).join("; ")}`,
    );
}
if (figures.forecast) {
  const f = figures.forecast as ForecastBench;
  const pc = (x: number) => `${(100 * x).toFixed(1)}%`;
  const pp = (x: number) => (100 * x).toFixed(2);
  for (const s of [...f.seeds, {seed: "pooled", recordSeconds: NaN, ...f.pooled}])
    console.log(
      `forecast       seed ${String(s.seed).padEnd(6)} ${s.forecasts} forecasts of ${s.quarters} closed quarters, ${s.cells} cells | GRR in 50/80/90%: ${pc(s.grrIn50)} / ${pc(s.grrIn80)} / ${pc(s.grrIn90)} | NRR in 80%: ${pc(s.nrrIn80)} | GRR error ${pp(s.grrError)} vs naive ${pp(s.naiveGrrError)} pp (portfolio ${pp(s.portfolioGrrError)} vs ${pp(s.portfolioNaiveGrrError)}) | NRR error ${pp(s.nrrError)} vs ${pp(s.naiveNrrError)} pp${Number.isFinite(s.recordSeconds) ? ` | back-fill + record ${fmt(s.recordSeconds)} s` : ""}`,
    );
  // the truth behind the luck: the back-filled first quarters' churned ARR
  const mae = (cells: ForecastBench["truth"], f: (c: ForecastBench["truth"][number]) => number) =>
    (100 * cells.reduce((a, c) => a + Math.abs(f(c) - c.truth), 0)) / Math.max(1, cells.length);
  for (const [name, cells] of [
    ["portfolio", f.truth.filter((c) => c.group === "all")],
    ["plan tiers", f.truth.filter((c) => c.group !== "all")],
  ] as const)
    console.log(
      `forecast       churned ARR of ${cells.length} back-filled first quarters (${name}), mean distance from the generator's truth: forecast ${mae(cells, (c) => c.model).toFixed(2)} pp, naive ${mae(cells, (c) => c.naive).toFixed(2)} pp, what happened ${mae(cells, (c) => c.actual).toFixed(2)} pp`,
    );
  for (const c of f.truth.filter((c) => c.group === "all"))
    console.log(
      `forecast       seed ${String(c.seed).padEnd(6)} ${c.made_on}: churned ARR expected ${pp(c.model)}%, truth ${pp(c.truth)}%, naive ${pp(c.naive)}%, happened ${pp(c.actual)}%`,
    );
}
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("marts_overhead_")) continue;
  const o = v as {pipelineSeconds: number; directSeconds: number; ratio: number};
  console.log(
    `${k.padEnd(14)} pipeline ${fmt(o.pipelineSeconds)} s vs direct ${fmt(o.directSeconds)} s = ${o.ratio.toFixed(2)}×`,
  );
}
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("pages_")) continue;
  const p = v as PagesBench;
  for (const pg of p.pages)
    console.log(
      `${k.padEnd(14)} /${pg.page.padEnd(22)} cold ${Math.round(pg.coldMs)} ms | warm ${Math.round(pg.warmMs)} ms (median of ${WARM_VISITS}) | ${(pg.transferBytes / 1e6).toFixed(2)} MB in ${pg.requests} requests${pg.duckdb ? " | DuckDB-WASM" : ""}`,
    );
  if (p.customerSwitch)
    console.log(
      `${k.padEnd(14)} Customer 360 switch: median ${Math.round(p.customerSwitch.medianMs)} ms, max ${Math.round(p.customerSwitch.maxMs)} ms`,
    );
}
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("health_")) continue;
  const h = v as HealthFigures;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  for (const c of h.perCutoff)
    console.log(
      `${k.padEnd(14)} ${c.cutoff}: ${c.churned} churned | health AUC ${c.before.auc.toFixed(3)} hand-set → ${c.after.auc.toFixed(3)} tuned (model ${c.model.auc.toFixed(3)}) | churned scored healthy ${pct(c.before.churnedHealthyShare)} → ${pct(c.after.churnedHealthyShare)} (model's churned scored Low ${pct(c.model.churnedLowShare)})`,
    );
  console.log(
    `${k.padEnd(14)} tier changes month to month ${pct(h.stability.before)} → ${pct(h.stability.after)} | Green after tuning ${pct(h.greenShareAfter)} of accounts | tune ${fmt(h.tuneSeconds)} s`,
  );
}
for (const [k, v] of Object.entries(figures))
  if (k.startsWith("capacity_")) for (const line of formatCapacityFigures(k, v as CapacityFigures)) console.log(line);
if (figures.api) for (const line of formatApiFigures(figures.api as ApiBenchFigures)) console.log(line);
for (const [k, v] of Object.entries(figures))
  if (k.startsWith("bulk_")) for (const line of formatBulkFigures(k, v as BulkBenchFigures)) console.log(line);
for (const [k, v] of Object.entries(figures))
  if (k.startsWith("effectiveness_"))
    for (const line of formatEffectiveness(v as EffectivenessFigures)) console.log(line);
if (figures.extract) for (const line of formatExtractFigures(figures.extract as ExtractFigures)) console.log(line);
for (const r of (figures.refresh as RefreshFigures[] | undefined) ?? []) console.log(formatRefreshFigures(r));
if (figures.ctas) for (const line of formatCtaFigures(figures.ctas as CtaBenchFigures)) console.log(line);
if (figures.alerts) {
  const a = figures.alerts as {deliveriesPerSecond: number; drain10kSeconds: number};
  console.log(
    `alerts         ${Math.round(a.deliveriesPerSecond)} signed deliveries/s to a local receiver | 10,000-alert outbox drained in ${fmt(a.drain10kSeconds)} s after the target recovered`,
  );
}
for (const [k, v] of Object.entries(figures)) {
  if (!k.startsWith("ingest_")) continue;
  const g = v as {rows: number; seconds: number; rowsPerSecond: number; peakRssBytes: number};
  console.log(
    `${k.padEnd(14)} ${g.rows.toLocaleString("en-US")} raw rows from CSV through the mapping in ${fmt(g.seconds)} s (${Math.round(g.rowsPerSecond).toLocaleString("en-US")} rows/s) | peak ${fmt(g.peakRssBytes / 2 ** 30)} GiB`,
  );
}
for (const e of (figures.events as EventsFigure[] | undefined) ?? [])
  console.log(
    `events         ${e.events.toLocaleString("en-US")} events (${e.format}) → ${e.usageRows.toLocaleString("en-US")} daily usage rows in ${fmt(e.seconds)} s (${Math.round(e.eventsPerSecond).toLocaleString("en-US")} events/s) | peak ${fmt(e.peakRssBytes / 2 ** 30)} GiB`,
  );
console.log("\n| target | measured | limit | result |\n|---|---|---|---|");
let failed = 0;
for (const t of targets) {
  const ok = t.kind === "max" ? t.value <= t.limit : t.value >= t.limit;
  if (!ok) failed++;
  console.log(
    `| ${t.name} | ${fmt(t.value)} ${t.unit} | ${t.kind === "max" ? "≤" : "≥"} ${t.limit} ${t.unit} | ${ok ? "PASS" : "FAIL"} |`,
  );
}
mkdirSync("bench/results", {recursive: true});
const gitRev = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {encoding: "utf8"}).trim();
  } catch {
    return null;
  }
})();
writeFileSync(
  "bench/results/latest.json",
  JSON.stringify({commit: gitRev, at: new Date().toISOString(), figures, targets}, null, 2),
);
console.log(`\nfigures written to bench/results/latest.json`);
process.exit(failed ? 1 : 0);
