/**
 * `npm run generate -- --out DIR [--customers N] [--seed N] [--as-of YYYY-MM-DD] [--format csv|parquet]
 *                     [--layout salesforce,zendesk,stripe,segment]`
 * (customers, seed and as-of default to the build's: 5,000 customers, seed 42, today in UTC)
 *
 * Generates the synthetic portfolio into an in-memory DuckDB and writes one file per raw table
 * (`<table>.csv` with a header, or `<table>.parquet`), rows ordered by the table's key so the
 * files are byte-identical for the same options. The truth table is not written: the files are a
 * template for users' own data.
 *
 * With --layout, the tables those vendors hold are written as their exports instead, each
 * vendor's files in a folder of its name (loaders/synthetic/layouts.ts), the rest as above, and
 * a `mapping.json` beside them composes the presets: `npm run build -- --mapping DIR/mapping.json`.
 *
 * With --app-database VARIABLE, accounts, subscription events, invoices, tickets and the raw
 * product events also go into the empty PostgreSQL database whose URL the variable holds, in an
 * application's shape (loaders/synthetic/app-database.ts), with `app-database.json` mapping them.
 */
import {removeStaleTemps, tempPathFor} from "../temp-files.ts";
import {mkdirSync, readdirSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {join, resolve} from "node:path";
import {DuckDBInstance} from "@duckdb/node-api";
import {z} from "zod";
import {DEFAULTS, todayUtc} from "../build.ts";
import {CONTRACT} from "../contract.ts";
import {ident, lit} from "../../src/components/sql.ts";
import {isMainModule, parseCommandArgs, runCommand, UsageError} from "./command.ts";
import {parseIsoDate} from "../synthetic/calendar.ts";
import {generateSynthetic} from "../synthetic/generate.ts";
import {LAYOUTS} from "../synthetic/layouts.ts";
import {writeAppDatabase} from "../synthetic/app-database.ts";

const USAGE = `usage: npm run generate -- --out <dir> [--customers <n>] [--seed <int>] [--as-of <YYYY-MM-DD>] [--format csv|parquet] [--months <n>] [--layout <vendor>,…] [--app-database <VARIABLE>]
  layouts: ${Object.keys(LAYOUTS).join(", ")}`;

const intArg = (name: string, min: number, max: number) =>
  z
    .string({error: `--${name} is required`})
    .regex(/^-?\d+$/, `--${name} must be an integer`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `--${name} must be between ${min} and ${max}`);

const ArgsSchema = z.object({
  customers: intArg("customers", 1, 2_000_000).default(DEFAULTS.customers),
  seed: intArg("seed", 0, 4_294_967_295).default(DEFAULTS.seed),
  "as-of": z
    .string()
    .default(() => todayUtc())
    .refine((s) => {
      try {
        parseIsoDate(s);
        return true;
      } catch {
        return false;
      }
    }, "--as-of must be a calendar date YYYY-MM-DD"),
  out: z.string({error: "--out is required"}).min(1, "--out must not be empty"),
  format: z.enum(["csv", "parquet"], {error: "--format must be csv or parquet"}).default("csv"),
  months: intArg("months", 3, 120).optional(),
  /** the environment variable holding an empty PostgreSQL database's URL, to write the application database into */
  "app-database": z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "--app-database names the environment variable holding the database URL")
    .optional(),
  layout: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(",").map((x) => x.trim()) : []))
    .superRefine((names, ctx) => {
      const held = new Map<string, string>();
      for (const name of names) {
        const layout = LAYOUTS[name];
        if (!layout) {
          ctx.addIssue({
            code: "custom",
            message: `--layout: no layout "${name}" (layouts: ${Object.keys(LAYOUTS).join(", ")})`,
          });
          continue;
        }
        for (const t of layout.tables) {
          if (held.has(t))
            ctx.addIssue({code: "custom", message: `--layout: ${held.get(t)} and ${name} both hold ${t}; pick one`});
          held.set(t, name);
        }
      }
    }),
});

export type GenerateArgs = z.infer<typeof ArgsSchema>;

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  const {values} = parseCommandArgs({
    args: argv,
    options: {
      customers: {type: "string"},
      seed: {type: "string"},
      "as-of": {type: "string"},
      out: {type: "string"},
      format: {type: "string"},
      months: {type: "string"},
      layout: {type: "string"},
      "app-database": {type: "string"},
    },
    strict: true,
    allowPositionals: false,
  });
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join("; "));
  // the application database's events table is the Segment layout's event log
  if (parsed.data["app-database"] && !parsed.data.layout.includes("segment")) {
    const other = parsed.data.layout.find((l) => LAYOUTS[l]!.tables.includes("usage_events"));
    if (other) throw new UsageError(`--app-database writes the product events itself: not with --layout ${other}`);
    parsed.data.layout.push("segment");
  }
  return parsed.data;
}

/** The mapping that builds from the written layouts: their presets, each in its folder, and what this data adds. */
export function layoutMapping(layouts: readonly string[]): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  let vocabulary: Record<string, unknown> = {};
  for (const name of layouts) {
    Object.assign(tables, LAYOUTS[name]!.mapping?.tables);
    vocabulary = {...vocabulary, ...LAYOUTS[name]!.mapping?.vocabulary};
  }
  return {
    description: `The synthetic portfolio as ${layouts.join(", ")} exports (npm run generate -- --layout ${layouts.join(",")}); the other tables in this folder`,
    presets: layouts.map((name) => ({name, folder: name})),
    folder: ".",
    ...(Object.keys(tables).length ? {tables} : {}),
    ...(Object.keys(vocabulary).length ? {vocabulary} : {}),
  };
}

export async function runGenerate(
  args: GenerateArgs,
  log: (msg: string) => void = (m) => console.error(m),
): Promise<Record<string, number>> {
  const outDir = resolve(args.out);
  const tmpDir = tempPathFor(outDir);
  rmSync(tmpDir, {recursive: true, force: true});
  removeStaleTemps(outDir);
  mkdirSync(tmpDir, {recursive: true});
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const summary = await generateSynthetic(
      conn,
      {customers: args.customers, seed: args.seed, asOf: args["as-of"], months: args.months},
      log,
    );
    const vendorTables = new Map(args.layout.flatMap((name) => LAYOUTS[name]!.tables.map((t) => [t, name])));
    for (const spec of CONTRACT) {
      if (vendorTables.has(spec.name)) continue;
      const file = join(tmpDir, `${spec.name}.${args.format}`);
      const order = spec.key.map(ident).join(", ");
      const opts = args.format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
      await conn.run(`COPY (SELECT * FROM raw.${spec.name} ORDER BY ${order}) TO ${lit(file)} (${opts})`);
      log(`wrote ${spec.name}.${args.format} (${summary.tables[spec.name]} rows)`);
    }
    for (const name of args.layout) {
      mkdirSync(join(tmpDir, name));
      await LAYOUTS[name]!.write(conn, join(tmpDir, name));
      log(`wrote ${name}/ (${LAYOUTS[name]!.tables.join(", ")} as ${name} exports)`);
    }
    if (args.layout.length)
      writeFileSync(join(tmpDir, "mapping.json"), JSON.stringify(layoutMapping(args.layout), null, 2) + "\n");
    // swap in only complete output: never leave a half-written directory behind
    mkdirSync(outDir, {recursive: true});
    for (const name of readdirSync(tmpDir)) {
      rmSync(join(outDir, name), {recursive: true, force: true});
      renameSync(join(tmpDir, name), join(outDir, name));
    }
    for (const spec of CONTRACT)
      if (vendorTables.has(spec.name))
        for (const ext of ["csv", "parquet"]) rmSync(join(outDir, `${spec.name}.${ext}`), {force: true});
    return summary.tables;
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(tmpDir, {recursive: true, force: true});
  }
}

if (isMainModule(import.meta.url))
  await runCommand({name: "generate", usage: USAGE}, async () => {
    const args = parseGenerateArgs(process.argv.slice(2));
    const t0 = performance.now();
    const tables = await runGenerate(args);
    const variable = args["app-database"];
    if (variable) {
      const url = process.env[variable];
      if (!url) throw new UsageError(`--app-database: the environment variable ${variable} is not set`);
      const db = await writeAppDatabase(resolve(args.out), url, {urlVariable: variable});
      console.log(
        `wrote the application database (${Object.entries(db.rows)
          .map(([t, n]) => `${t}=${n}`)
          .join(" ")}) and ${db.mapping}`,
      );
    }
    console.log(
      `generated ${Object.entries(tables)
        .map(([t, n]) => `${t}=${n}`)
        .join(" ")} into ${resolve(args.out)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  });
