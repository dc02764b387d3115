/**
 * `npm run build [-- --as-of YYYY-MM-DD --customers N --seed S --source auto|synthetic|files --raw-dir DIR | --mapping FILE [--full-refresh]] [--lenient] [--no-site]`
 * raw → warehouse → marts → checks → dist/, all-or-nothing (see loaders/build.ts).
 */
import {build, DEFAULTS} from "../build.ts";
import {intArg, parseCommandArgs, runCommand, UsageError} from "./command.ts";

const USAGE = `usage: npm run build -- [--as-of YYYY-MM-DD] [--customers N] [--seed N] [--source auto|synthetic|files] [--raw-dir DIR | --mapping FILE] [--full-refresh] [--lenient] [--no-site]`;

await runCommand(
  {name: "build", usage: USAGE, unchanged: "(nothing was changed: the previous warehouse and site are intact)"},
  async () => {
    const {values} = parseCommandArgs({
      options: {
        "as-of": {type: "string"},
        customers: {type: "string"},
        seed: {type: "string"},
        source: {type: "string", default: "auto"},
        "raw-dir": {type: "string", default: DEFAULTS.rawDir},
        mapping: {type: "string"},
        lenient: {type: "boolean", default: false},
        "full-refresh": {type: "boolean", default: false},
        "no-site": {type: "boolean", default: false},
      },
      strict: true,
    });
    const source = values.source;
    if (source !== "auto" && source !== "synthetic" && source !== "files")
      throw new UsageError(`--source: "${source}" must be auto, synthetic or files`);
    await build({
      asOf: values["as-of"],
      customers: intArg("customers", values.customers),
      seed: intArg("seed", values.seed),
      source,
      rawDir: values["raw-dir"],
      mapping: values.mapping,
      lenient: values.lenient,
      fullRefresh: values["full-refresh"],
      site: !values["no-site"],
    });
  },
);
