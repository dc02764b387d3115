/**
 * Runs one measured build in a process of its own (bench/build-child.ts), so its peak memory is
 * that build's alone; the build's progress goes on to the terminal.
 */
import {spawn} from "node:child_process";
import type {BuildResult} from "../loaders/build.ts";

export interface ChildBuildOptions {
  /** synthetic portfolio size (ignored with rawDir) */
  customers?: number;
  asOf: string;
  /** the folder of warehouse.duckdb and dist/ (a previous build there is the refresh's base) */
  out: string;
  site: boolean;
  /** build from these raw files instead of synthetic data */
  rawDir?: string;
  fullRefresh?: boolean;
}

export interface ChildBuildResult extends BuildResult {
  /** the process's peak resident memory (DuckDB's native memory included) */
  peakRssBytes: number;
  /** the highest of the child's once-a-second samples, and the log line printed last before it */
  sampledPeak: {bytes: number; after: string};
}

export function childBuild(o: ChildBuildOptions): Promise<ChildBuildResult> {
  const what = o.rawDir ? o.rawDir : `${(o.customers ?? 0).toLocaleString("en-US")} customers`;
  return new Promise((resolve, reject) => {
    const args = [
      "tsx",
      "bench/build-child.ts",
      ...(o.rawDir ? ["--raw-dir", o.rawDir] : ["--customers", String(o.customers)]),
      "--as-of",
      o.asOf,
      "--out",
      o.out,
      ...(o.site ? ["--site"] : []),
      ...(o.fullRefresh ? ["--full-refresh"] : []),
    ];
    const child = spawn("npx", args, {stdio: ["ignore", "pipe", "pipe"]});
    let stdout = "";
    // its last lines say why, if it fails
    let tail = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on("exit", (code) => {
      if (code !== 0) {
        const why =
          tail
            .split("\n")
            .map((l) => l.trim().replace(/^\[/, ""))
            .find((l) => /^(\w+ )*\w*Error:/.test(l)) ?? `exit ${code}`;
        return reject(new Error(`the build of ${what} failed: ${why.trim()}`));
      }
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)!));
    });
  });
}
