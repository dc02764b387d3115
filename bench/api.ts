/**
 * Load test of the API server: the server runs in a child process (`tsx server/serve-api.ts`,
 * as in production, request logging on), autocannon runs in this process, both on 127.0.0.1.
 *
 * 1. throughput: as many requests as 32 connections get through for each of `/health`,
 *    `GET /customers/{id}` (cycling over real ids) and `POST /predictions/churn` (one real
 *    account's features per request, cycling) — predictions must reach ≥ 50% of /health;
 * 2. latency: the same three at a fixed 500 requests/s — p99 must be ≤ 25 ms;
 * 3. every response of every run is counted by status: zero 5xx allowed;
 * 4. under attack: `/health` at 100 requests/s while 4 connections send 0.9 MB prediction bodies
 *    of 85,000 unknown feature keys as fast as they can — its p99 must stay ≤ 50 ms.
 *
 * `npx tsx bench/api.ts [--warehouse data/warehouse.duckdb] [--models models] [--seconds 8]`
 * runs it alone; `benchApi()` is what bench/run.ts calls.
 */
import {isMainModule} from "../loaders/cli/command.ts";
import autocannon from "autocannon";
import {spawn, type ChildProcess} from "node:child_process";
import {existsSync} from "node:fs";
import {createServer} from "node:net";
import {resolve} from "node:path";
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
  /** p99 latency at a fixed 500 requests/s, ms */
  p99At500Ms: number;
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
  serverLog: string[];
}

export interface ApiTarget {
  name: string;
  value: number;
  unit: string;
  limit: number;
  kind: "max" | "min";
}

/** The targets for the figures, in bench/run.ts's Target shape. */
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
    log?: (m: string) => void;
  } = {},
): Promise<ApiBenchFigures> {
  const warehousePath = resolve(options.warehousePath ?? "data/warehouse.duckdb");
  const modelsDir = resolve(options.modelsDir ?? "models");
  const seconds = options.seconds ?? 8;
  const connections = options.connections ?? 32;
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
    ["--import", "tsx", fileURLToPath(new URL("../server/serve-api.ts", import.meta.url))],
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
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  child.stderr!.on("data", (d: Buffer) => serverLog.push(...d.toString().split("\n").filter(Boolean)));
  try {
    await waitHealthy(url, child).catch((e: Error) => {
      throw new Error(`${e.message}\n${serverLog.slice(-10).join("\n")}`);
    });
    let i = 0;
    const health = (): Req => ({method: "GET", path: "/health"});
    const customer = (): Req => ({method: "GET", path: `/customers/${ids[i++ % ids.length]}`});
    const prediction = (): Req => ({
      method: "POST",
      path: "/predictions/churn",
      headers: {"content-type": "application/json"},
      body: bodies[i++ % bodies.length],
    });

    log(`== API: warm-up (${ids.length} ids, ${bodies.length} feature rows)`);
    await run(url, prediction, {seconds: 3, connections});
    await run(url, customer, {seconds: 2, connections});
    await run(url, health, {seconds: 1, connections});

    const out: Record<"health" | "customers" | "predictions", EndpointFigures> = {} as never;
    for (const [name, next] of [
      ["health", health],
      ["customers", customer],
      ["predictions", prediction],
    ] as const) {
      log(`== API: ${name} at full load (${connections} connections, ${seconds} s)`);
      const full = await run(url, next, {seconds, connections});
      log(`== API: ${name} at 500 requests/s (${seconds} s)`);
      await fetch(`${url}/metrics?reset_loop_delay=1`).then((r) => r.text());
      const fixed = await run(url, next, {seconds, connections: 16, overallRate: 500});
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
      run(
        url,
        () => ({
          method: "POST",
          path: "/predictions/churn",
          headers: {"content-type": "application/json"},
          body: floodBody,
        }),
        {seconds, connections: 4},
      ),
      run(url, health, {seconds, connections: 4, overallRate: 100}),
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
      ...out,
      flood,
      predictionsVsHealth: out.predictions.rps / out.health.rps,
      worstP99At500Ms: Math.max(out.health.p99At500Ms, out.customers.p99At500Ms, out.predictions.p99At500Ms),
      total5xx: out.health.status5xx + out.customers.status5xx + out.predictions.status5xx,
      serverLog: serverLog.slice(-20),
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
    `| ${name} | ${Math.round(e.rps).toLocaleString("en-US")} | ${e.p50Ms} | ${e.p99Ms} | ${e.p99At500Ms} (${Math.round(e.rateAchieved)} req/s) | ${e.serverLoopDelayP99At500Ms.toFixed(1)} / ${e.serverLoopDelayMaxAt500Ms.toFixed(1)} | ${e.non2xx} | ${e.status5xx} | ${e.errors + e.timeouts} |`;
  return [
    `| endpoint | req/s (${f.connections} conn.) | p50 ms | p99 ms | p99 ms at 500 req/s | server loop delay p99 / max at 500 req/s, ms | non-2xx | 5xx | errors |`,
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
    options: {warehouse: {type: "string"}, models: {type: "string"}, seconds: {type: "string"}},
  });
  const f = await benchApi({
    warehousePath: values.warehouse,
    modelsDir: values.models,
    seconds: values.seconds ? Number(values.seconds) : undefined,
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
