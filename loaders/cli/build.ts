/**
 * `npm run build [-- --as-of YYYY-MM-DD --customers N --seed S --source auto|synthetic|files --lenient --no-site]`
 * raw → warehouse → marts → checks → dist/, all-or-nothing (see loaders/build.ts).
 */
import {parseArgs} from "node:util";
import {build, DEFAULTS} from "../build.ts";

const USAGE = `usage: npm run build -- [--as-of YYYY-MM-DD] [--customers N] [--seed N] [--source auto|synthetic|files] [--raw-dir DIR] [--lenient] [--no-site]`;

function intArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`--${name}: "${v}" is not a whole number`);
  return Number(v);
}

try {
  const {values} = parseArgs({
    options: {
      "as-of": {type: "string"},
      customers: {type: "string"},
      seed: {type: "string"},
      source: {type: "string", default: "auto"},
      "raw-dir": {type: "string", default: DEFAULTS.rawDir},
      lenient: {type: "boolean", default: false},
      "no-site": {type: "boolean", default: false},
      help: {type: "boolean", default: false},
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const source = values.source;
  if (source !== "auto" && source !== "synthetic" && source !== "files")
    throw new Error(`--source: "${source}" must be auto, synthetic or files`);
  await build({
    asOf: values["as-of"],
    customers: intArg("customers", values.customers),
    seed: intArg("seed", values.seed),
    source,
    rawDir: values["raw-dir"],
    lenient: values.lenient,
    site: !values["no-site"],
  });
} catch (e) {
  console.error(`build failed: ${(e as Error).message}`);
  if (!(e instanceof Error) || !/^(--|usage)/.test(e.message))
    console.error("(nothing was changed: the previous warehouse and site are intact)");
  else console.error(USAGE);
  process.exit(1);
}
