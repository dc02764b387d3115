/**
 * `npm run generate -- --customers 5000 --seed 42 --as-of 2026-11-22 --out data/raw --format csv`
 *
 * Generates the synthetic portfolio into an in-memory DuckDB and writes one file per raw table
 * (`<table>.csv` with a header, or `<table>.parquet`), rows ordered by the table's key so the
 * files are byte-identical for the same options. The truth table is not written: the files are a
 * template for users' own data.
 */
import {mkdirSync, renameSync, rmSync} from "node:fs";
import {join, resolve} from "node:path";
import {parseArgs} from "node:util";
import {DuckDBInstance} from "@duckdb/node-api";
import {z} from "zod";
import {CONTRACT} from "../contract.ts";
import {parseIsoDate} from "../synthetic/calendar.ts";
import {generateSynthetic} from "../synthetic/generate.ts";

const USAGE =
  "usage: npm run generate -- --customers <n> --seed <int> --as-of <YYYY-MM-DD> --out <dir> [--format csv|parquet] [--months <n>]";

const intArg = (name: string, min: number, max: number) =>
  z
    .string({error: `--${name} is required`})
    .regex(/^-?\d+$/, `--${name} must be an integer`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `--${name} must be between ${min} and ${max}`);

const ArgsSchema = z.object({
  customers: intArg("customers", 1, 2_000_000),
  seed: intArg("seed", 0, 4_294_967_295),
  "as-of": z.string({error: "--as-of is required"}).refine((s) => {
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
});

export type GenerateArgs = z.infer<typeof ArgsSchema>;

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  let values: Record<string, string | undefined>;
  try {
    ({values} = parseArgs({
      args: argv,
      options: {
        customers: {type: "string"},
        seed: {type: "string"},
        "as-of": {type: "string"},
        out: {type: "string"},
        format: {type: "string"},
        months: {type: "string"},
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${parsed.error.issues.map((i) => i.message).join("; ")}\n${USAGE}`);
  return parsed.data;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export async function runGenerate(
  args: GenerateArgs,
  log: (msg: string) => void = (m) => console.error(m),
): Promise<Record<string, number>> {
  const outDir = resolve(args.out);
  const tmpDir = `${outDir}.tmp-${process.pid}`;
  rmSync(tmpDir, {recursive: true, force: true});
  mkdirSync(tmpDir, {recursive: true});
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const summary = await generateSynthetic(
      conn,
      {customers: args.customers, seed: args.seed, asOf: args["as-of"], months: args.months},
      log,
    );
    for (const spec of CONTRACT) {
      const file = join(tmpDir, `${spec.name}.${args.format}`);
      const order = spec.key.map((k) => `"${k}"`).join(", ");
      const opts = args.format === "csv" ? "FORMAT csv, HEADER true" : "FORMAT parquet, COMPRESSION zstd";
      await conn.run(`COPY (SELECT * FROM raw.${spec.name} ORDER BY ${order}) TO ${sqlString(file)} (${opts})`);
      log(`wrote ${spec.name}.${args.format} (${summary.tables[spec.name]} rows)`);
    }
    // swap in only complete output: never leave a half-written directory behind
    mkdirSync(outDir, {recursive: true});
    for (const spec of CONTRACT) {
      for (const ext of ["csv", "parquet"]) rmSync(join(outDir, `${spec.name}.${ext}`), {force: true});
      renameSync(join(tmpDir, `${spec.name}.${args.format}`), join(outDir, `${spec.name}.${args.format}`));
    }
    return summary.tables;
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(tmpDir, {recursive: true, force: true});
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`generate: ${(err as Error).message}`);
    process.exit(2);
  }
  const t0 = performance.now();
  runGenerate(args)
    .then((tables) => {
      console.log(
        `generated ${Object.entries(tables)
          .map(([t, n]) => `${t}=${n}`)
          .join(" ")} into ${resolve(args.out)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    })
    .catch((err: unknown) => {
      console.error(`generate: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    });
}
