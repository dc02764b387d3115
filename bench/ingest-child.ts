/**
 * One timed ingest of a mapping's files (bench/events.ts), in its own process so that the peak
 * RSS is the ingest's alone; the warehouse is in memory with the build's DuckDB memory cap.
 * Prints one JSON line.
 */
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {DEFAULTS} from "../loaders/build.ts";
import {ingestFiles} from "../loaders/ingest.ts";
import {readMapping} from "../loaders/sources.ts";

const [mapping, asOf] = process.argv.slice(2) as [string, string];
const w = await openWarehouse(":memory:", {memoryLimit: DEFAULTS.duckdbMemory});
const t0 = performance.now();
await ingestFiles(w.conn, readMapping(mapping), {asOf, progress: (m) => process.stderr.write(m + "\n")});
const seconds = (performance.now() - t0) / 1000;
const [{n}] = (await all<{n: number}>(w.conn, "SELECT count(*) AS n FROM raw.usage_events")) as [{n: number}];
w.close();
console.log(JSON.stringify({seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024, usageRows: n}));
