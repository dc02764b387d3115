/**
 * `npm run presets:samples [-- --out DIR]` — writes presets/samples/<vendor>/ (or DIR/<vendor>/): the first records of each file of
 * each vendor layout, as `npm run generate -- --layout <vendor>` writes them for a small
 * portfolio. They show a new user what each preset reads without generating anything; a test
 * regenerates them and fails when they no longer match the layouts.
 */
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, relative, resolve} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {lit} from "../../src/components/sql.ts";
import {PRESETS_DIR} from "../sources.ts";
import {isMainModule, parseCommandArgs, runCommand} from "./command.ts";
import {parseGenerateArgs, runGenerate} from "./generate.ts";

/** Vendors written together (no two hold the same table). */
const GROUPS = ["salesforce,zendesk,stripe,segment", "hubspot,intercom,chargebee,amplitude", "mixpanel"];
const RECORDS = 5;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)],
  );
}

/** Writes the samples into `out` (presets/samples by default); returns the files written. */
export async function writePresetSamples(out = join(PRESETS_DIR, "samples")): Promise<string[]> {
  const work = mkdtempSync(join(tmpdir(), "saasguard-samples-"));
  const written: string[] = [];
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    rmSync(out, {recursive: true, force: true});
    for (const group of GROUPS) {
      const dir = join(work, group.replace(/,/g, "-"));
      const args = ["--out", dir, "--customers", "30", "--months", "3", "--seed", "42", "--as-of", "2026-06-30"];
      await runGenerate(parseGenerateArgs([...args, "--layout", group]), () => {});
      for (const vendor of group.split(","))
        for (const file of filesUnder(join(dir, vendor))) {
          const target = join(out, vendor, relative(join(dir, vendor), file));
          mkdirSync(resolve(target, ".."), {recursive: true});
          if (file.endsWith(".parquet"))
            await conn.run(
              `COPY (SELECT * FROM read_parquet(${lit(file)}) LIMIT ${RECORDS}) TO ${lit(target)} (FORMAT parquet)`,
            );
          else {
            // a CSV's header and its first records; a JSON Lines file's first records
            const lines = readFileSync(file, "utf8").split("\n");
            writeFileSync(target, lines.slice(0, file.endsWith(".csv") ? RECORDS + 1 : RECORDS).join("\n") + "\n");
          }
          written.push(target);
        }
    }
    return written.sort();
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(work, {recursive: true, force: true});
  }
}

const USAGE = "usage: npm run presets:samples [-- --out <dir>]   (default presets/samples)";

if (isMainModule(import.meta.url))
  await runCommand({name: "presets:samples", usage: USAGE}, async () => {
    const {values} = parseCommandArgs({args: process.argv.slice(2), options: {out: {type: "string"}}, strict: true});
    const out = values.out ? resolve(values.out) : join(PRESETS_DIR, "samples");
    const files = await writePresetSamples(out);
    console.log(`wrote ${files.length} sample files under ${relative(process.cwd(), out) || out}`);
  });
