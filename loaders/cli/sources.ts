/**
 * `npm run sources [-- --mapping FILE | --raw-dir DIR] [--as-of YYYY-MM-DD]`: see before you
 * build. Reads every raw table exactly as the build would (through the mapping, if there is one)
 * into a throw-away in-memory DuckDB and prints, per table: where it comes from, rows read and
 * rejected, how each column is mapped, the values of each vocabulary column with their meaning
 * and counts (and the ones the vocabulary does not know, with what they are read as), date
 * ranges and the freshness of the usage data; then the problems, root causes first. Tables read
 * from a database are read in full (an event log's pushed-down query is printed). Writes
 * nothing; exits 1 when the build would fail.
 */
import {join, resolve} from "node:path";
import {tmpdir} from "node:os";
import {config} from "../../src/rules/config.ts";
import type {DuckDBConnection} from "@duckdb/node-api";
import {UNKNOWN_MEANS} from "../../src/rules/vocabulary.ts";
import {CONTRACT, type TableSpec} from "../contract.ts";
import {all, ident, lit, openWarehouse} from "../duckdb.ts";
import {ingestFiles, IngestError, type IngestReport} from "../ingest.ts";
import {formatGroups, groupProblems, problemCount} from "../ingest-report.ts";
import {findRawFiles, folderPlan, readMapping, sourceLabel, type SourcePlan} from "../sources.ts";
import {DEFAULTS, todayUtc} from "../build.ts";
import {extractDatabaseSources, type Extraction} from "../extract/extract.ts";
import {isMainModule, parseCommandArgs, runCommand, UsageError} from "./command.ts";

const USAGE = "usage: npm run sources -- [--mapping FILE | --raw-dir DIR] [--as-of YYYY-MM-DD]";
const n = (x: number) => x.toLocaleString("en-US");

/**
 * Per column with a vocabulary: the values the data has, with their meaning and counts, and the
 * ones the vocabulary does not know (what they are read as, and where to declare them).
 */
async function vocabularyLines(conn: DuckDBConnection, spec: TableSpec): Promise<string[]> {
  const out: string[] = [];
  for (const c of spec.columns) {
    if (!c.vocabulary) continue;
    const seen = await all<{value: string; meaning: string | null; known: boolean; n: number}>(
      conn,
      `SELECT r.${ident(c.name)} AS value, v.meaning, v.value IS NOT NULL AS known, count(*) AS n
       FROM raw.${spec.name} r LEFT JOIN (SELECT * FROM cfg.vocabulary WHERE kind = ${lit(c.vocabulary)}) v ON v.value = r.${ident(c.name)}
       WHERE r.${ident(c.name)} IS NOT NULL GROUP BY ALL ORDER BY n DESC, value`,
    );
    const show = (xs: typeof seen) =>
      xs
        .slice(0, 8)
        .map(
          (u) => `${JSON.stringify(u.value)}${u.meaning && u.meaning !== u.value ? ` → ${u.meaning}` : ""} ×${n(u.n)}`,
        )
        .join(", ") + (xs.length > 8 ? `, … (${xs.length} values)` : "");
    const known = seen.filter((u) => u.known);
    const unknown = seen.filter((u) => !u.known);
    if (known.length) out.push(`  ${c.name}: ${show(known)}`);
    if (unknown.length)
      out.push(
        `  ${c.name} not in the vocabulary (${UNKNOWN_MEANS[c.vocabulary]}): ${show(unknown)} — declare them under "vocabulary" → "${c.vocabulary}"`,
      );
  }
  return out;
}

/** The report's lines, and whether the build would fail on these sources. */
export async function describeSources(opts: {
  mapping?: string;
  rawDir?: string;
  asOf: string;
}): Promise<{lines: string[]; failing: boolean}> {
  const mappingFile = opts.mapping ? resolve(opts.mapping) : null;
  const mapping = mappingFile ? readMapping(mappingFile) : null;
  const plan: SourcePlan = mapping ? mapping.plan : folderPlan(findRawFiles(resolve(opts.rawDir ?? DEFAULTS.rawDir)));
  const w = await openWarehouse(":memory:");
  const lines: string[] = [];
  try {
    let report: IngestReport | null = null;
    // database tables are read in full, as a first build would (a database that cannot be read fails here)
    const extracted = new Map<string, Extraction>();
    if (mapping)
      for (const x of await extractDatabaseSources(w.conn, mapping.plan, {
        tempPrefix: join(tmpdir(), `saasguard-sources-${process.pid}`),
      }))
        extracted.set(x.table, x);
    try {
      report = await ingestFiles(w.conn, mapping ?? resolve(opts.rawDir ?? DEFAULTS.rawDir), {
        asOf: opts.asOf,
        lenient: true,
        progress: (m) =>
          /: .*(read as|decimal|day-first|both ways|no data rows|accounts matched|events aggregated|keeps \d)/.test(
            m,
          ) && lines.push(`  note: ${m}`),
      });
    } catch (e) {
      if (!(e instanceof IngestError)) throw e; // a table that cannot be read at all: reported below
    }
    const notes = lines.splice(0);
    for (const spec of CONTRACT) {
      const source = plan.get(spec.name);
      const loaded = report?.tables[spec.name];
      const rows = (await all<{n: number}>(w.conn, `SELECT count(*) AS n FROM raw.${spec.name}`))[0]!.n;
      lines.push(
        `${spec.name} ← ${source ? `${sourceLabel(source)}${source.mappingKey ? ` (${source.mappingKey}${source.preset ? `, preset ${source.preset}` : ""})` : ""}` : "(no source)"}: ${n(rows)} rows${loaded?.rejected ? `, ${n(loaded.rejected)} rejected` : ""}`,
      );
      if (!source) continue;
      const x = extracted.get(spec.name);
      if (x) {
        lines.push(`  read from database ${x.database}: ${n(x.read)} rows in ${x.seconds.toFixed(1)} s`);
        // the aggregation a data engineer can run in their own warehouse and hand over as a file
        if (source.events)
          lines.push(
            "  query run in the database (the usage aggregation, pushed down):",
            ...x.query.split("\n").map((l) => `    ${l}`),
          );
      }
      const mapped = Object.entries(source.columns).map(([c, e]) => `${c} ← ${e}`);
      if (mapped.length) lines.push(`  columns: ${mapped.join(", ")}`);
      for (const [c, m] of Object.entries(source.values))
        lines.push(
          `  values of ${c}: ${Object.entries(m)
            .map(([a, b]) => `${JSON.stringify(a)} → ${JSON.stringify(b)}`)
            .join(", ")}`,
        );
      if (rows) lines.push(...(await vocabularyLines(w.conn, spec)));
      const dates = spec.columns.filter((c) => c.type === "DATE" || c.type === "TIMESTAMP");
      if (dates.length && rows) {
        const [r] = await all<Record<string, string | null>>(
          w.conn,
          `SELECT ${dates.map((c, i) => `CAST(min(${ident(c.name)}) AS DATE)::VARCHAR AS lo${i}, CAST(max(${ident(c.name)}) AS DATE)::VARCHAR AS hi${i}`).join(", ")} FROM raw.${spec.name}`,
        );
        lines.push(
          `  dates: ${dates.map((c, i) => `${c.name} ${r![`lo${i}`] ?? "—"} … ${r![`hi${i}`] ?? "—"}`).join("; ")}`,
        );
      }
      if (spec.name === "usage_events" && rows) {
        const [f] = await all<{days: number}>(
          w.conn,
          `SELECT DATE ${lit(opts.asOf)} - max(event_date) AS days FROM raw.usage_events`,
        );
        const stale = f!.days > config.dataQuality.maxStalenessDays;
        lines.push(
          `  freshness: newest usage ${f!.days} day(s) before ${opts.asOf}${stale ? ` — older than the ${config.dataQuality.maxStalenessDays} days the build's freshness check allows` : ""}`,
        );
      }
    }
    lines.push(...notes);
    const total = await problemCount(w.conn);
    if (total) lines.push("", formatGroups(await groupProblems(w.conn), total));
    else
      lines.push(
        "",
        "no problems: `npm run build" +
          (opts.mapping ? ` -- --mapping ${opts.mapping}` : "") +
          "` would read these as they are",
      );
    return {lines, failing: total > 0};
  } finally {
    w.close();
  }
}

if (isMainModule(import.meta.url))
  await runCommand({name: "sources", usage: USAGE}, async () => {
    const {values} = parseCommandArgs({
      options: {mapping: {type: "string"}, "raw-dir": {type: "string"}, "as-of": {type: "string"}},
      strict: true,
    });
    if (values.mapping && values["raw-dir"]) throw new UsageError("--mapping and --raw-dir: give one");
    const asOf = values["as-of"] ?? todayUtc();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new UsageError(`--as-of: "${asOf}" is not a date (YYYY-MM-DD)`);
    const {lines, failing} = await describeSources({mapping: values.mapping, rawDir: values["raw-dir"], asOf});
    for (const l of lines) console.log(l);
    return failing ? 1 : 0;
  });
