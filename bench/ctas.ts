/**
 * Working CTAs under load while the nightly build runs: the API (its own process, as in
 * production) serves `GET /ctas` (cycling over the CSMs' queues) and `PATCH /ctas/{id}` (a note
 * on a cycling open CTA) at a fixed 200 requests/s in total, while a nightly build of the same
 * warehouse runs in another process and reads the same SQLite store. Afterwards every PATCH
 * answered 2xx must be in the store's audit log (nothing lost), and no answer may be a 5xx.
 *
 * `benchCtas({dir})` is what bench/run.ts calls, on a warehouse it has just built in `dir`.
 */
import {spawn} from "node:child_process";
import {join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {openStore} from "../loaders/store/index.ts";
import {count5xx, freePort, run, waitHealthy, type Req} from "./api.ts";

export interface CtaEndpointFigures {
  requests: number;
  rateAchieved: number;
  p50Ms: number;
  p99Ms: number;
  status2xx: number;
  status5xx: number;
}

export interface CtaBenchFigures {
  customers: number;
  seconds: number;
  rate: number;
  list: CtaEndpointFigures;
  patch: CtaEndpointFigures;
  /** how long the concurrent nightly build took, s */
  buildSeconds: number;
  /** PATCHes answered 2xx that are not in the audit log (must be 0) */
  lostWrites: number;
}

function figures(r: Awaited<ReturnType<typeof run>>, seconds: number): CtaEndpointFigures {
  return {
    requests: r.requests.total,
    rateAchieved: r.requests.total / seconds,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    status2xx: r["2xx"],
    status5xx: count5xx(r),
  };
}

export async function benchCtas(opts: {
  dir: string;
  customers: number;
  asOf: string;
  seconds?: number;
  rate?: number;
  log?: (m: string) => void;
}): Promise<CtaBenchFigures> {
  const seconds = opts.seconds ?? 20;
  const rate = opts.rate ?? 200;
  const log = opts.log ?? ((m: string) => console.error(m));
  const warehousePath = join(opts.dir, "warehouse.duckdb");
  const store = `sqlite:${join(opts.dir, "operational.sqlite")}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const tsx = ["--import", "tsx"];
  const api = spawn(process.execPath, [...tsx, fileURLToPath(new URL("../server/serve-api.ts", import.meta.url))], {
    env: {
      ...process.env,
      API_PORT: String(port),
      API_HOST: "127.0.0.1",
      WAREHOUSE_PATH: warehousePath,
      MODELS_DIR: resolve("models"),
      SAASGUARD_STORE: store,
      RATE_LIMIT_PER_MINUTE: "10000000",
      RATE_LIMIT_BURST: "1000000",
      LOG_LEVEL: "warn",
      API_KEYS: "",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitHealthy(url, api);
    // request material: tonight's open CTAs and their owners
    const open: {cta_id: string; owner: string}[] = [];
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page = (await (await fetch(`${url}/ctas?limit=500${cursor ? `&cursor=${cursor}` : ""}`)).json()) as {
        items: {cta_id: string; owner: string}[];
        next_cursor: string | null;
      };
      open.push(...page.items);
      cursor = page.next_cursor;
    }
    const owners = [...new Set(open.map((c) => c.owner))];
    const before = (await auditCount(store)).n;

    log(
      `  ${open.length} open CTAs of ${owners.length} CSMs; ${rate} req/s for ${seconds} s (half GET /ctas, half PATCH) while a nightly build runs`,
    );
    const t0 = performance.now();
    const build = new Promise<number>((res, rej) => {
      const b = spawn(
        process.execPath,
        [
          ...tsx,
          fileURLToPath(new URL("./build-child.ts", import.meta.url)),
          "--customers",
          String(opts.customers),
          "--as-of",
          opts.asOf,
          "--out",
          opts.dir,
        ],
        {stdio: ["ignore", "ignore", "ignore"]},
      );
      b.on("exit", (code) =>
        code === 0 ? res((performance.now() - t0) / 1000) : rej(new Error(`build exited ${code}`)),
      );
    });
    let i = 0;
    let j = 0;
    const list = (): Req => ({method: "GET", path: `/ctas?owner=${encodeURIComponent(owners[i++ % owners.length]!)}`});
    const patch = (): Req => ({
      method: "PATCH",
      path: `/ctas/${open[j % open.length]!.cta_id}`,
      headers: {"content-type": "application/json"},
      body: JSON.stringify({note: `bench note ${j++}`}),
    });
    const [l, p] = await Promise.all([
      run(url, list, {seconds, connections: 8, overallRate: rate / 2}),
      run(url, patch, {seconds, connections: 8, overallRate: rate / 2}),
    ]);
    const buildSeconds = await build;
    const after = (await auditCount(store)).n;
    const patchFigures = figures(p, seconds);
    return {
      customers: opts.customers,
      seconds,
      rate,
      list: figures(l, seconds),
      patch: patchFigures,
      buildSeconds,
      lostWrites: Math.max(0, patchFigures.status2xx - (after - before)),
    };
  } finally {
    api.kill("SIGTERM");
  }
}

async function auditCount(setting: string): Promise<{n: number}> {
  const s = await openStore(setting);
  try {
    return {n: (await s.audit({limit: 10_000_000})).length};
  } finally {
    await s.close();
  }
}

export function formatCtaFigures(f: CtaBenchFigures): string[] {
  const row = (name: string, e: CtaEndpointFigures) =>
    `  ${name.padEnd(18)} ${e.rateAchieved.toFixed(0).padStart(4)} req/s achieved, p50 ${e.p50Ms.toFixed(1)} ms, p99 ${e.p99Ms.toFixed(1)} ms, ${e.status2xx} × 2xx, ${e.status5xx} × 5xx`;
  return [
    `CTA work at ${f.rate} req/s during a nightly build (${f.customers.toLocaleString("en-US")} customers; the build took ${f.buildSeconds.toFixed(1)} s):`,
    row("GET /ctas?owner=", f.list),
    row("PATCH /ctas/{id}", f.patch),
    `  writes lost: ${f.lostWrites} (every 2xx PATCH is in the audit log)`,
  ];
}
