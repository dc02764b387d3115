/**
 * The nightly build: raw → warehouse → marts → checks → site, all-or-nothing.
 *
 * Everything is written to temporary siblings (data/warehouse.duckdb.tmp-<pid>,
 * dist.tmp-<pid>) and swapped in only when every step succeeded, so a failed build leaves
 * the previous warehouse and site exactly as they were.
 */
import {UsageError} from "./cli/command.ts";
import {existsSync, mkdirSync, renameSync, rmSync} from "node:fs";
import {dirname, resolve} from "node:path";
import {config, validateConfig} from "../src/rules/config.ts";
import {checkRawTables, findRawFiles, ingestFiles, type IngestReport} from "./ingest.ts";
import {readMapping} from "./sources.ts";
import {extractDatabaseSources} from "./extract/extract.ts";
import {buildMarts, runSteps, type MartTiming} from "./marts.ts";
import {Refresh} from "./refresh.ts";
import {ensureModel, scoreWarehouse} from "./score.ts";
import {scoreExpansion} from "./score-expansion.ts";
import {scoreHorizons, writeNoHorizons} from "./score-horizon.ts";
import {NotEnoughHistoryError} from "./model/train-horizon.ts";
import {writeForecast} from "./forecast.ts";
import {backfillForecasts, writeForecastAccuracy} from "./forecast-record.ts";
import {writeRenewalCalls} from "./renewal-calls.ts";
import {carryOverCtas} from "./cta.ts";
import {writePortfolioBrief} from "./brief/index.ts";
import {briefLlmFromEnv} from "./brief/writer.ts";
import {openStore} from "./store/index.ts";
import {storeSettingFor} from "./store/location.ts";
import {enqueueWarehouseAlerts} from "./alerts/enqueue.ts";
import {loadTargets} from "./alerts/targets.ts";
import {runQualityChecks} from "./quality.ts";
import {generateSynthetic} from "./synthetic/generate.ts";
import {lit, one, openWarehouse, run} from "./duckdb.ts";
import {removeStaleTemps, tempPathFor} from "./temp-files.ts";
import {setFlagsFromString} from "node:v8";
import {runInNewContext} from "node:vm";

export interface BuildOptions {
  /** the as-of date (YYYY-MM-DD): features use data up to and including it; default today (UTC) */
  asOf?: string;
  /** synthetic data size and seed, used when data/raw holds no files */
  customers?: number;
  seed?: number;
  /** "auto" uses data/raw when it holds files, else synthetic data */
  source?: "auto" | "synthetic" | "files";
  rawDir?: string;
  /** a source mapping file (loaders/sources.ts): where each raw table comes from and how it maps */
  mapping?: string;
  lenient?: boolean;
  /**
   * recompute everything: read the mapping's database tables in full, not from their cursors
   * (loaders/extract/), and reuse nothing of the previous warehouse (loaders/refresh.ts)
   */
  fullRefresh?: boolean;
  /** build the static site too (default true) */
  site?: boolean;
  warehousePath?: string;
  distDir?: string;
  /** the churn model folder; trained first when empty (default models/) */
  modelsDir?: string;
  /** the operational store (loaders/store/): default SAASGUARD_STORE, else SQLite beside the warehouse */
  store?: string;
  log?: (line: string) => void;
  /** where the language model's settings (LLM_*, as the API reads them) and the database URLs are read (default process.env) */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface BuildResult {
  asOf: string;
  source: "synthetic" | "files";
  warehousePath: string;
  distDir: string | null;
  seconds: number;
  stages: Record<string, number>;
  rawRows: Record<string, number>;
  marts: MartTiming[];
  checks: number;
}

export const DEFAULTS = {
  customers: 5000,
  seed: 42,
  rawDir: "data/raw",
  warehousePath: "data/warehouse.duckdb",
  distDir: "dist",
  modelsDir: "models",
  duckdbMemory: "4GB",
} as const;

export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

export function parseIsoDate(s: string, what: string): string {
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(s) ||
    Number.isNaN(Date.parse(s + "T00:00:00Z")) ||
    new Date(s + "T00:00:00Z").toISOString().slice(0, 10) !== s
  )
    throw new UsageError(`${what}: "${s}" is not a valid date (expected YYYY-MM-DD)`);
  return s;
}

/**
 * A full garbage collection, run between the build's stages. The JavaScript steps (models, the
 * forecast's simulation, the back-fill) leave their arrays as garbage, and V8 collects only when
 * JavaScript allocates again; the SQL steps after them allocate in DuckDB instead, so at a million
 * customers that garbage and DuckDB's memory (up to its cap) peaked together (see README,
 * "Benchmarks"). The flag is V8's own, set at run time so no command needs `--expose-gc`.
 */
const collectGarbage: () => void = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

export async function build(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const log = opts.log ?? ((line: string) => console.log(line));
  const say = (stage: string, msg: string) =>
    log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${stage.padEnd(8)} ${msg}`);
  const configProblems = validateConfig();
  if (configProblems.length) throw new Error(`src/rules/config.ts is invalid:\n  ${configProblems.join("\n  ")}`);

  // a bad alert-target config fails the build before any work
  const alertTargets = loadTargets().targets;
  // so does a bad language-model setting (the executive brief uses the API's LLM_* settings)
  const briefLlm = briefLlmFromEnv(opts.env ?? process.env);
  const asOf = parseIsoDate(opts.asOf ?? todayUtc(), "--as-of");
  const customers = opts.customers ?? DEFAULTS.customers;
  if (!Number.isInteger(customers) || customers < 10 || customers > 1_000_000)
    throw new UsageError(`--customers: ${customers} must be an integer between 10 and 1,000,000`);
  const seed = opts.seed ?? DEFAULTS.seed;
  const rawDir = resolve(opts.rawDir ?? DEFAULTS.rawDir);
  // a source mapping names the files itself (loaders/sources.ts); checked before any work
  const mapping = opts.mapping ? readMapping(resolve(opts.mapping)) : null;
  if (mapping && opts.source === "synthetic")
    throw new UsageError("--mapping reads your files: not with --source synthetic");
  const files = mapping ? new Map() : findRawFiles(rawDir);
  const source =
    mapping || opts.source === "files" || (opts.source !== "synthetic" && files.size > 0) ? "files" : "synthetic";
  if (source === "files" && !mapping && files.size === 0)
    throw new UsageError(`--source files: ${rawDir} holds no raw CSV or Parquet files`);

  const finalWarehouse = resolve(opts.warehousePath ?? DEFAULTS.warehousePath);
  const finalDist = resolve(opts.distDir ?? DEFAULTS.distDir);
  const tmpWarehouse = tempPathFor(finalWarehouse);
  const tmpDist = tempPathFor(finalDist);
  mkdirSync(dirname(finalWarehouse), {recursive: true});
  const cleanup = () => {
    for (const p of [tmpWarehouse, `${tmpWarehouse}.wal`, tmpDist]) rmSync(p, {recursive: true, force: true});
  };
  cleanup();
  const stale = [...removeStaleTemps(finalWarehouse), ...removeStaleTemps(finalDist)];
  if (stale.length) say("start", `removed ${stale.length} leftover(s) of builds that were killed: ${stale.join(", ")}`);
  const stages: Record<string, number> = {};
  const timed = async <T>(stage: string, f: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    const r = await f();
    collectGarbage();
    stages[stage] = (performance.now() - s) / 1000;
    return r;
  };

  try {
    say(
      "start",
      `as of ${asOf}, source ${mapping ? opts.mapping : source === "files" ? rawDir : `synthetic (${customers.toLocaleString("en-US")} customers, seed ${seed})`}`,
    );
    // tonight's warehouse starts as a copy of the previous one, whose usage history a refresh
    // reuses (loaders/refresh.ts); a copy that does not open is not a warehouse: start afresh
    const memory = {memoryLimit: process.env.SAASGUARD_DUCKDB_MEMORY ?? DEFAULTS.duckdbMemory};
    let copied = await timed("copy", async () => Refresh.copyPrevious(finalWarehouse, tmpWarehouse, opts.fullRefresh));
    let w: Awaited<ReturnType<typeof openWarehouse>>;
    try {
      w = await openWarehouse(tmpWarehouse, memory);
    } catch (e) {
      if (!copied) throw e;
      cleanup();
      copied = false;
      say(
        "refresh",
        `the previous warehouse does not open (${(e as Error).message.split("\n")[0]}): everything is computed whole`,
      );
      w = await openWarehouse(tmpWarehouse, memory);
    }
    let marts: MartTiming[];
    let checks: number;
    const rawRows: Record<string, number> = {};
    try {
      // reuse (raw usage days, their aggregate, scores at past cutoffs) lasts until tonight's
      // scores are written; on failure the copy is removed whole
      const refresh = await Refresh.open(w.conn, {
        previousWarehouse: finalWarehouse,
        copied,
        log: (m) => say("refresh", m),
      });
      if (mapping && [...mapping.plan.values()].some((s) => s.database))
        await timed("extract", () =>
          extractDatabaseSources(w.conn, mapping.plan, {
            previousWarehouse: finalWarehouse,
            fullRefresh: opts.fullRefresh,
            env: opts.env ?? process.env,
            tempPrefix: tmpWarehouse,
            log: (m) => say("extract", m),
          }),
        );
      if (source === "files") {
        const report: IngestReport = await timed("ingest", () =>
          ingestFiles(w.conn, mapping ?? {dir: rawDir}, {
            asOf,
            lenient: opts.lenient,
            progress: (m) => say("ingest", m),
            reportPath: resolve(dirname(finalWarehouse), "ingest-problems.csv"),
            refresh,
          }),
        );
        for (const [t, r] of Object.entries(report.tables)) rawRows[t] = r.rows;
      } else {
        const summary = await timed("generate", () =>
          generateSynthetic(w.conn, {customers, seed, asOf}, (m) => say("generate", m)),
        );
        Object.assign(rawRows, summary.tables);
        await timed("validate", () => checkRawTables(w.conn, {asOf, label: "synthetic"}));
        say("validate", "synthetic tables satisfy the raw data contract");
      }
      marts = await timed("features", () => buildMarts(w.conn, asOf, (m) => say("marts", m), "features", refresh));
      const modelsDir = resolve(opts.modelsDir ?? DEFAULTS.modelsDir);
      const model = await timed("model", () =>
        ensureModel(w.conn, {dir: modelsDir, asOf, log: (m) => say("model", m)}),
      );
      const scoring = await timed("scoring", () =>
        scoreWarehouse(w.conn, model, asOf, (m) => say("scoring", m), refresh),
      );
      await refresh.close(w.conn);
      await model.scorer.release();
      // the churn horizon model: the months and quarters ahead, and the months to each renewal
      await timed("horizon", async () => {
        let horizon;
        try {
          horizon = await ensureModel(w.conn, {dir: modelsDir, asOf, kind: "horizon", log: (m) => say("model", m)});
        } catch (e) {
          if (!(e instanceof NotEnoughHistoryError)) throw e;
          say("model", `${e.message}: no retention forecast tonight`);
          await writeNoHorizons(w.conn, e.message);
          return;
        }
        try {
          await scoreHorizons(w.conn, horizon, asOf, (m) => say("scoring", m));
        } finally {
          await horizon.scorer.release();
        }
      });
      // the expansion model beside the rule-based expansion proxy (the scores phase joins both)
      await timed("expansion", async () => {
        const expansion = await ensureModel(w.conn, {
          dir: modelsDir,
          asOf,
          kind: "expansion",
          log: (m) => say("model", m),
        });
        try {
          await scoreExpansion(w.conn, expansion, (m) => say("scoring", m));
        } finally {
          await expansion.scorer.release();
        }
      });
      if (scoring.drift) {
        const {value, cutoff, rows} = scoring.drift;
        const limit = config.governance.maxCalibrationDrift;
        const line = `model ${model.card.version} on the cohort of ${cutoff} (${rows} accounts, 90 days matured): calibration drift ${(value * 100).toFixed(1)} pp (gate ${limit * 100} pp)`;
        if (value <= limit) say("drift", line);
        else if (config.governance.driftAction === "fail")
          throw new Error(`${line} — retrain with \`npm run train\` (config.governance.driftAction is "fail")`);
        else say("drift", `WARNING ${line} — retrain with \`npm run train\``);
      }
      marts.push(...(await timed("marts", () => buildMarts(w.conn, asOf, (m) => say("marts", m), "scores"))));
      // the retention forecast reads the horizon and expansion models' scores
      await timed("forecast", () => writeForecast(w.conn, asOf, (m) => say("forecast", m), finalWarehouse));
      // the forecasts of past quarters' first days that no build made, and how right each was
      await timed("record", async () => {
        await backfillForecasts(w.conn, asOf, (m) => say("forecast", m));
        const cells = await writeForecastAccuracy(w.conn, asOf);
        say("forecast", `forecast record: ${cells} cells of closed quarters set against what happened`);
      });
      // CTAs carried over from the previous build (still in place until the swap below), worked
      // by the CSMs in the operational store (read only: a failed build changes nothing there)
      const store = await openStore(opts.store ?? storeSettingFor(finalWarehouse));
      let storeReadAt: string | null;
      try {
        await store.migrate();
        ({storeReadAt} = await timed("ctas", () =>
          carryOverCtas(w.conn, {previousWarehouse: finalWarehouse, asOf, store, log: (m) => say("ctas", m)}),
        ));
        // the CSMs' calls on the upcoming renewals, beside the churn horizon model's view
        await timed("calls", () => writeRenewalCalls(w.conn, store, asOf, (m) => say("forecast", m)));
      } finally {
        await store.close();
      }
      // per-account dossiers need tonight's CTAs
      marts.push(...(await timed("dossiers", () => runSteps(w.conn, "dossiers", (m) => say("marts", m)))));
      // the executive brief: tonight against the previous build and the last weekly digest
      const brief = await timed("brief", () =>
        writePortfolioBrief(w.conn, {
          previousWarehouse: finalWarehouse,
          asOf,
          llm: briefLlm,
          log: (m) => say("brief", m),
        }),
      );
      marts.push(...brief.marts);
      checks = await timed("checks", () => runQualityChecks(w.conn, asOf));
      say("checks", `${checks} data-quality checks passed`);
      await run(
        w.conn,
        `CREATE OR REPLACE TABLE marts.build_info AS SELECT now()::TIMESTAMP AS built_at, DATE ${lit(asOf)} AS as_of, ${lit(source === "files" ? "files" : "synthetic")} AS source,
           (SELECT count(*) FROM marts.mart_customer_risk_scores)::INTEGER AS customers, ${source === "synthetic" ? seed : "NULL"}::INTEGER AS seed,
           ${storeReadAt ? `TIMESTAMP ${lit(storeReadAt.replace("T", " ").replace("Z", ""))}` : "NULL::TIMESTAMP"} AS store_read_at`,
      );
      await run(w.conn, "CHECKPOINT");
      const active = await one<{n: number}>(w.conn, "SELECT customers AS n FROM marts.build_info");
      say("marts", `${active.n.toLocaleString("en-US")} active customers scored`);
    } finally {
      w.close();
    }

    let distDir: string | null = null;
    if (opts.site !== false) {
      const {buildSite} = await import("./site/build-site.ts");
      await timed("site", () =>
        buildSite({warehouse: tmpWarehouse, outDir: tmpDist, log: (m: string) => say("site", m)}),
      );
      distDir = finalDist;
    }

    // Swap in: warehouse first (a rename is atomic), then the site.
    renameSync(tmpWarehouse, finalWarehouse);
    rmSync(`${finalWarehouse}.wal`, {force: true});
    if (distDir) {
      const old = `${finalDist}.old-${process.pid}`;
      if (existsSync(finalDist)) renameSync(finalDist, old);
      renameSync(tmpDist, finalDist);
      rmSync(old, {recursive: true, force: true});
    }
    // Alerts are enqueued only once the build is in place; enqueuing again is harmless.
    if (alertTargets.length) {
      const q = await enqueueWarehouseAlerts({
        warehouse: finalWarehouse,
        outboxDir: resolve(dirname(finalWarehouse), "outbox"),
        targets: alertTargets,
      });
      say(
        "alerts",
        `${q.alerts} alert(s)${q.digests ? " and the weekly digest" : ""} → ${q.messages} delivery(ies) in the outbox (\`npm run alerts\` delivers them)`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    say("done", `warehouse ${finalWarehouse}${distDir ? `, site ${distDir}` : ""} in ${seconds.toFixed(1)} s`);
    return {asOf, source, warehousePath: finalWarehouse, distDir, seconds, stages, rawRows, marts, checks};
  } catch (e) {
    cleanup();
    throw e;
  }
}
