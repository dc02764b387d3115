/**
 * Load test of the API server as an outside client sees it: the server runs in a child process
 * (`node --import tsx server/serve-api.ts`, request logging on, its stdout read through a pipe as
 * a log collector or a terminal would), and the load generator — autocannon — in another child
 * (bench/load-child.ts), both on 127.0.0.1. The requests are made before each run and cycled;
 * each measuring process first runs 2 s of the same load unmeasured (a fresh autocannon runs its
 * own code unoptimised at first, which a bare CLI run counts as server time).
 * (Until session 11 autocannon ran inside this process, the server's stdout went to /dev/null and
 * the fixed-rate run used 16 connections: see README, "Latency as an outside client sees it".)
 *
 * 1. throughput: as many requests as 32 connections get through for each of `/health`,
 *    `GET /customers/{id}` (cycling over real ids) and `POST /predictions/churn` (one real
 *    account's features per request, cycling) — predictions must reach ≥ 50% of /health;
 * 2. latency: the same three at a fixed 500 requests/s on 32 connections (autocannon sends each
 *    connection's share of a second back to back, so a run is bursts of 32 requests in flight)
 *    — p99 must be ≤ 25 ms;
 * 3. every response of every run is counted by status: zero 5xx allowed;
 * 4. under attack: `/health` at 100 requests/s while 4 connections send 0.9 MB prediction bodies
 *    of 85,000 unknown feature keys as fast as they can — its p99 must stay ≤ 50 ms.
 *
 * `npx tsx bench/api.ts [--warehouse data/warehouse.duckdb] [--models models] [--seconds 8]`
 * runs it alone (`--client in-process --server-log discard --fixed-connections 16` measures it
 * the old way, for an A/B); `benchApi()` is what bench/run.ts calls.
 */
import {isMainModule} from "../loaders/cli/command.ts";
import autocannon from "autocannon";
import {spawn, type ChildProcess} from "node:child_process";
import {existsSync, mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {createServer} from "node:net";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import {all, openWarehouse} from "../loaders/duckdb.ts";
import {sampleFeatureRows} from "../server/api/samples.ts";

export interface EndpointFigures {
  /** mean requests per second at full load */
  rps: number;
  /** latency percentiles at full load, ms */
  p50Ms: number;
  p99Ms: number;
  /** p99 latency at a fixed 500 requests/s, ms (autocannon's, as its CLI prints it) */
  p99At500Ms: number;
  /** the same run's p99 and max of the response times as measured, one sample per response (load-child.ts), ms */
  rawP99At500Ms: number | null;
  rawMaxAt500Ms: number | null;
  /** requests/s actually achieved in the fixed-rate run */
  rateAchieved: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  status5xx: number;
  /** the server's own event-loop delay during the 500 req/s run (p99, max), ms */
  serverLoopDelayP99At500Ms: number;
  serverLoopDelayMaxAt500Ms: number;
}

export interface ApiBenchFigures {
  seconds: number;
  connections: number;
  /** connections of the 500 req/s runs */
  fixedConnections: number;
  /** where the load generator ran */
  client: "outside" | "in-process";
  /** where the server's request log went, and how many lines arrived */
  serverLog: "pipe" | "discard";
  serverLogLines: number;
  health: EndpointFigures;
  customers: EndpointFigures;
  predictions: EndpointFigures;
  /** predictions rps ÷ /health rps, same run */
  predictionsVsHealth: number;
  /** worst p99 of the three endpoints at 500 requests/s, ms */
  worstP99At500Ms: number;
  total5xx: number;
  /** /health at 100 req/s while oversized prediction bodies arrive */
  flood: {
    bodyBytes: number;
    floodRps: number;
    floodStatus: Record<string, number>;
    healthP50Ms: number;
    healthP99Ms: number;
    healthMaxMs: number;
    healthRateAchieved: number;
  };
  serverStderr: string[];
}

export interface ApiTarget {
  name: string;
  value: number;
  unit: string;
  limit: number;
  kind: "max" | "min";
}

/** The issue's targets for the figures, in bench/run.ts's Target shape. */
export function apiTargets(f: ApiBenchFigures): ApiTarget[] {
  return [
    {
      name: "API: predictions throughput ÷ /health throughput",
      value: f.predictionsVsHealth,
      unit: "×",
      limit: 0.5,
      kind: "min",
    },
    {name: "API: worst p99 latency at 500 req/s", value: f.worstP99At500Ms, unit: "ms", limit: 25, kind: "max"},
    {name: "API: 5xx responses", value: f.total5xx, unit: "", limit: 0, kind: "max"},
    {
      name: "API: /health p99 while 0.9 MB unknown-key prediction bodies arrive",
      value: f.flood.healthP99Ms,
      unit: "ms",
      limit: 50,
      kind: "max",
    },
  ];
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as {port: number}).port;
      s.close(() => res(port));
    });
  });
}

export async function waitHealthy(url: string, child: ChildProcess, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (child.exitCode !== null)
      throw new Error(`the API server exited with code ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok && ((await r.json()) as {status: string}).status === "ok") return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the API server at ${url} was not healthy within ${ms / 1000} s`);
}

export type Req = {method: "GET" | "POST" | "PATCH"; path: string; headers?: Record<string, string>; body?: string};

export function run(
  url: string,
  next: () => Req,
  opts: {seconds: number; connections: number; overallRate?: number},
): Promise<autocannon.Result> {
  return new Promise((res, rej) => {
    const first = next();
    const inst = autocannon(
      {
        url,
        connections: opts.connections,
        duration: opts.seconds,
        overallRate: opts.overallRate,
        timeout: 10,
        method: first.method,
        requests: [
          {
            setupRequest: (req: autocannon.Request) => {
              const r = next();
              return {
                ...req,
                method: r.method,
                path: r.path,
                headers: {...(req.headers ?? {}), ...(r.headers ?? {})},
                body: r.body,
              };
            },
          },
        ],
      },
      (err, result) => (err ? rej(err) : res(result)),
    );
    inst.on("error", rej);
  });
}

/**
 * `run`, from a separate process: autocannon in bench/load-child.ts cycling through `requests`.
 * The client's own work (timing, parsing answers) then never shares an event loop with this
 * process, which reads the server's log meanwhile.
 */
export async function runOutside(
  url: string,
  requests: Req[],
  opts: {seconds: number; connections: number; overallRate?: number; warmSeconds?: number},
): Promise<autocannon.Result> {
  const dir = mkdtempSync(join(tmpdir(), "saasguard-load-"));
  try {
    const spec = join(dir, "spec.json");
    writeFileSync(spec, JSON.stringify({url, ...opts, requests}));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("./load-child.ts", import.meta.url)), spec],
      {stdio: ["ignore", "pipe", "pipe"]},
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    if (code !== 0) throw new Error(`the load generator exited with ${code}: ${err.slice(-500)}`);
    return JSON.parse(out.trim().split("\n").at(-1)!) as autocannon.Result;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

export function count5xx(r: autocannon.Result): number {
  let n = 0;
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) if (code.startsWith("5")) n += s.count ?? 0;
  return n;
}

export async function benchApi(
  options: {
    warehousePath?: string;
    modelsDir?: string;
    seconds?: number;
    connections?: number;
    /** connections of the 500 req/s runs (default 32, as the issue measured) */
    fixedConnections?: number;
    /** where autocannon runs: a child process (default) or this one (the bench before session 11, for A/B) */
    client?: "outside" | "in-process";
    /** the server's stdout: read through a pipe (default) or sent to /dev/null (the bench before session 11) */
    serverLog?: "pipe" | "discard";
    /** extra node options of the server process (A/B of runtime flags) */
    serverNodeOptions?: string[];
    log?: (m: string) => void;
  } = {},
): Promise<ApiBenchFigures> {
  const warehousePath = resolve(options.warehousePath ?? "data/warehouse.duckdb");
  const modelsDir = resolve(options.modelsDir ?? "models");
  const seconds = options.seconds ?? 8;
  const connections = options.connections ?? 32;
  const fixedConnections = options.fixedConnections ?? 32;
  const outside = (options.client ?? "outside") === "outside";
  const pipeLog = (options.serverLog ?? "pipe") === "pipe";
  const log = options.log ?? ((m: string) => console.error(m));
  if (!existsSync(warehousePath))
    throw new Error(`benchApi: ${warehousePath} does not exist — run \`npm run build\` first`);

  // request material: real ids and real feature rows
  const w = await openWarehouse(warehousePath, {readOnly: true});
  let ids: string[];
  try {
    ids = (
      await all<{customer_id: string}>(
        w.conn,
        "SELECT customer_id FROM marts.mart_customer_risk_scores ORDER BY customer_id",
      )
    ).map((r) => r.customer_id);
  } finally {
    w.close();
  }
  const rows = await sampleFeatureRows(warehousePath, modelsDir, 2000);
  const bodies = rows.map((r) => JSON.stringify({features: r.features}));

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverLog: string[] = [];
  const child = spawn(
    process.execPath,
    [
      ...(options.serverNodeOptions ?? []),
      "--import",
      "tsx",
      fileURLToPath(new URL("../server/serve-api.ts", import.meta.url)),
    ],
    {
      env: {
        ...process.env,
        API_PORT: String(port),
        API_HOST: "127.0.0.1",
        WAREHOUSE_PATH: warehousePath,
        MODELS_DIR: modelsDir,
        // the benchmark measures capacity, so the per-client limit is set out of the way
        RATE_LIMIT_PER_MINUTE: "10000000",
        RATE_LIMIT_BURST: "1000000",
        LOG_LEVEL: "info",
        API_KEYS: "",
        LLM_BASE_URL: "",
        LLM_MODEL: "",
      },
      stdio: ["ignore", pipeLog ? "pipe" : "ignore", "pipe"],
    },
  );
  child.stderr!.on("data", (d: Buffer) => serverLog.push(...d.toString().split("\n").filter(Boolean)));
  // the request log, read as a log collector would (and counted: one line per request)
  let logLines = 0;
  child.stdout?.on("data", (d: Buffer) => {
    for (let k = d.indexOf(10); k >= 0; k = d.indexOf(10, k + 1)) logLines++;
  });
  try {
    await waitHealthy(url, child).catch((e: Error) => {
      throw new Error(`${e.message}\n${serverLog.slice(-10).join("\n")}`);
    });
    // every request made up front: real ids, real feature rows
    const health: Req[] = [{method: "GET", path: "/health"}];
    const customer: Req[] = ids.map((id) => ({method: "GET", path: `/customers/${id}`}));
    const prediction: Req[] = bodies.map((body) => ({
      method: "POST",
      path: "/predictions/churn",
      headers: {"content-type": "application/json"},
      body,
    }));
    const load = (reqs: Req[], opts: {seconds: number; connections: number; overallRate?: number}) => {
      // the measuring process warms its own code first (an in-process client was warmed by the runs before)
      if (outside) return runOutside(url, reqs, {...opts, warmSeconds: 2});
      let i = 0;
      return run(url, () => reqs[i++ % reqs.length]!, opts);
    };

    log(
      `== API: warm-up (${ids.length} ids, ${bodies.length} feature rows; load from ${outside ? "a separate process" : "this process"}, server log ${pipeLog ? "through a pipe" : "discarded"})`,
    );
    await load(prediction, {seconds: 3, connections});
    await load(customer, {seconds: 2, connections});
    await load(health, {seconds: 1, connections});

    const out: Record<"health" | "customers" | "predictions", EndpointFigures> = {} as never;
    for (const [name, reqs] of [
      ["health", health],
      ["customers", customer],
      ["predictions", prediction],
    ] as const) {
      log(`== API: ${name} at full load (${connections} connections, ${seconds} s)`);
      const full = await load(reqs, {seconds, connections});
      log(`== API: ${name} at 500 requests/s (${fixedConnections} connections, ${seconds} s)`);
      await fetch(`${url}/metrics?reset_loop_delay=1`).then((r) => r.text());
      const fixed = await load(reqs, {seconds, connections: fixedConnections, overallRate: 500});
      const loop = await fetch(`${url}/metrics`).then((r) => r.text());
      const q = (k: string) =>
        Number(
          loop
            .split("\n")
            .find((l) => l.startsWith(`nodejs_eventloop_delay_seconds{quantile="${k}"}`))
            ?.split(" ")[1] ?? NaN,
        ) * 1000;
      out[name] = {
        rps: full.requests.average,
        p50Ms: full.latency.p50,
        p99Ms: full.latency.p99,
        p99At500Ms: fixed.latency.p99,
        rawP99At500Ms: (fixed as {raw?: {p99: number}}).raw?.p99 ?? null,
        rawMaxAt500Ms: (fixed as {raw?: {max: number}}).raw?.max ?? null,
        rateAchieved: fixed.requests.average,
        requests: full.requests.total + fixed.requests.total,
        non2xx: full.non2xx + fixed.non2xx,
        errors: full.errors + fixed.errors,
        timeouts: full.timeouts + fixed.timeouts,
        status5xx: count5xx(full) + count5xx(fixed),
        serverLoopDelayP99At500Ms: q("0.99"),
        serverLoopDelayMaxAt500Ms: q("1"),
      };
    }
    log(
      `== API: /health at 100 req/s while 4 connections send 0.9 MB bodies of 85,000 unknown features (${seconds} s)`,
    );
    const floodFeatures: Record<string, unknown> = {...rows[0]!.features};
    for (let k = 0; k < 85_000; k++) floodFeatures[`k${k}`] = 1;
    const floodBody = JSON.stringify({features: floodFeatures});
    const [floodRun, probe] = await Promise.all([
      load(
        [{method: "POST", path: "/predictions/churn", headers: {"content-type": "application/json"}, body: floodBody}],
        {seconds, connections: 4},
      ),
      load(health, {seconds, connections: 4, overallRate: 100}),
    ]);
    const flood = {
      bodyBytes: Buffer.byteLength(floodBody),
      floodRps: floodRun.requests.average,
      floodStatus: Object.fromEntries(
        Object.entries(floodRun.statusCodeStats ?? {}).map(([code, st]) => [code, st.count ?? 0]),
      ),
      healthP50Ms: probe.latency.p50,
      healthP99Ms: probe.latency.p99,
      healthMaxMs: probe.latency.max,
      healthRateAchieved: probe.requests.average,
    };
    return {
      seconds,
      connections,
      fixedConnections,
      client: outside ? "outside" : "in-process",
      serverLog: pipeLog ? "pipe" : "discard",
      serverLogLines: logLines,
      ...out,
      flood,
      predictionsVsHealth: out.predictions.rps / out.health.rps,
      worstP99At500Ms: Math.max(out.health.p99At500Ms, out.customers.p99At500Ms, out.predictions.p99At500Ms),
      total5xx: out.health.status5xx + out.customers.status5xx + out.predictions.status5xx,
      serverStderr: serverLog.slice(-20),
    };
  } finally {
    child.kill("SIGTERM");
    await new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        r();
      }, 10_000);
      child.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

export function formatApiFigures(f: ApiBenchFigures): string[] {
  const row = (name: string, e: EndpointFigures) =>
    `| ${name} | ${Math.round(e.rps).toLocaleString("en-US")} | ${e.p50Ms} | ${e.p99Ms} | ${e.p99At500Ms}${e.rawP99At500Ms !== null ? ` (raw ${Math.round(e.rawP99At500Ms)}, max ${Math.round(e.rawMaxAt500Ms!)})` : ""} at ${Math.round(e.rateAchieved)} req/s | ${e.serverLoopDelayP99At500Ms.toFixed(1)} / ${e.serverLoopDelayMaxAt500Ms.toFixed(1)} | ${e.non2xx} | ${e.status5xx} | ${e.errors + e.timeouts} |`;
  return [
    `load from ${f.client === "outside" ? "a separate process" : "the bench process"}; server log ${f.serverLog === "pipe" ? `read through a pipe (${f.serverLogLines.toLocaleString("en-US")} lines)` : "discarded"}; 500 req/s runs on ${f.fixedConnections} connections`,
    `| endpoint | req/s (${f.connections} conn.) | p50 ms | p99 ms | p99 ms at 500 req/s (autocannon; raw responses) | server loop delay p99 / max at 500 req/s, ms | non-2xx | 5xx | errors |`,
    "|---|---|---|---|---|---|---|---|---|",
    row("GET /health", f.health),
    row("GET /customers/{id}", f.customers),
    row("POST /predictions/churn", f.predictions),
    `predictions ÷ health = ${f.predictionsVsHealth.toFixed(2)}; worst p99 at 500 req/s = ${f.worstP99At500Ms} ms; 5xx = ${f.total5xx}`,
    `under a flood of ${(f.flood.bodyBytes / 1e6).toFixed(2)} MB unknown-key prediction bodies (${f.flood.floodRps.toFixed(0)}/s on 4 connections, statuses ${JSON.stringify(f.flood.floodStatus)}): GET /health at ${Math.round(f.flood.healthRateAchieved)} req/s p50 ${f.flood.healthP50Ms} ms, p99 ${f.flood.healthP99Ms} ms, max ${f.flood.healthMaxMs} ms`,
  ];
}

if (isMainModule(import.meta.url)) {
  const {values} = parseArgs({
    options: {
      warehouse: {type: "string"},
      models: {type: "string"},
      seconds: {type: "string"},
      // A/B against the bench as it was before session 11: --client in-process --server-log discard --fixed-connections 16
      client: {type: "string"},
      "server-log": {type: "string"},
      "fixed-connections": {type: "string"},
      "server-node-options": {type: "string"},
    },
  });
  const f = await benchApi({
    warehousePath: values.warehouse,
    modelsDir: values.models,
    seconds: values.seconds ? Number(values.seconds) : undefined,
    client: values.client === "in-process" ? "in-process" : "outside",
    serverLog: values["server-log"] === "discard" ? "discard" : "pipe",
    fixedConnections: values["fixed-connections"] ? Number(values["fixed-connections"]) : undefined,
    serverNodeOptions: values["server-node-options"]?.split(" ").filter(Boolean),
  });
  for (const l of formatApiFigures(f)) console.log(l);
  let failed = 0;
  for (const t of apiTargets(f)) {
    const ok = t.kind === "max" ? t.value <= t.limit : t.value >= t.limit;
    if (!ok) failed++;
    console.log(
      `${ok ? "PASS" : "FAIL"}  ${t.name}: ${t.value.toFixed(2)} ${t.unit} (${t.kind === "max" ? "≤" : "≥"} ${t.limit})`,
    );
  }
  process.exit(failed ? 1 : 0);
}
