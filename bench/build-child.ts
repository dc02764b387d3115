/**
 * One measured build in its own process (so peak memory is this build's alone).
 * Prints one JSON line: the build result plus the process's peak RSS.
 */
import {parseArgs} from "node:util";
import {join} from "node:path";
import {build} from "../loaders/build.ts";

const {values} = parseArgs({
  options: {
    customers: {type: "string"},
    "as-of": {type: "string"},
    out: {type: "string"},
    site: {type: "boolean", default: false},
    "raw-dir": {type: "string"},
    "full-refresh": {type: "boolean", default: false},
  },
});
const out = values.out!;
// Where the peak is: the resident memory, sampled every second (when the event loop is free: a long
// synchronous step is sampled at its end), and the log line printed last before its highest sample.
let lastLine = "";
const peak = {bytes: 0, after: ""};
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peak.bytes) Object.assign(peak, {bytes: rss, after: lastLine});
}, 1000);
const result = await build({
  ...(values["raw-dir"]
    ? {source: "files" as const, rawDir: values["raw-dir"]}
    : {source: "synthetic" as const, customers: Number(values.customers)}),
  asOf: values["as-of"],
  fullRefresh: values["full-refresh"],
  site: values.site,
  warehousePath: join(out, "warehouse.duckdb"),
  distDir: join(out, "dist"),
  log: (l) => {
    lastLine = l.trim();
    process.stderr.write(l + "\n");
  },
});
clearInterval(sampler);
// maxRSS is in kilobytes and covers DuckDB's native memory too (same process).
console.log(JSON.stringify({...result, peakRssBytes: process.resourceUsage().maxRSS * 1024, sampledPeak: peak}));
