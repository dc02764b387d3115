/**
 * The load generator of the API benchmarks, in a process of its own: an outside client, as the
 * issue measured it (the autocannon CLI beside `npm run api`). Run by `runOutside()` in
 * bench/api.ts with the path of a JSON LoadSpec; prints autocannon's result as one JSON line.
 *
 * The requests are made before the run (bodies already serialised) and cycled through, so the
 * client spends its time sending and timing requests, not building them.
 *
 * Besides autocannon's own latency figures, `raw` gives percentiles of the response times as
 * measured, one sample per response. With a rate set, autocannon "corrects for coordinated
 * omission" with an expected interval of ceil(1 / per-connection rate) = 1 ms (seconds read as
 * milliseconds): a response of L ms is recorded with L − 1 made-up samples of L − 1 … 1 ms, so slow
 * responses weigh more in its percentiles than they were. The targets keep autocannon's figure
 * (what its CLI prints); the raw one says what the responses were.
 */
import autocannon from "autocannon";
import {readFileSync} from "node:fs";

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  overallRate?: number;
  /** seconds of the same load first, not measured (warms this process's own code) */
  warmSeconds?: number;
  requests: {method: string; path: string; headers?: Record<string, string>; body?: string}[];
}

const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadSpec;
const reqs = spec.requests;
if (!reqs.length) throw new Error("load-child: no requests");
let i = 0;
let times: number[] = [];
const once = (seconds: number) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: seconds,
        overallRate: spec.overallRate,
        timeout: 10,
        method: reqs[0]!.method as autocannon.Request["method"],
        requests: [
          {
            setupRequest: (req: autocannon.Request) => {
              const r = reqs[i++ % reqs.length]!;
              return {
                ...req,
                method: r.method as autocannon.Request["method"],
                path: r.path,
                headers: {...(req.headers ?? {}), ...(r.headers ?? {})},
                body: r.body,
              };
            },
          },
        ],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    inst.on("error", reject);
    inst.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
// unmeasured first: a fresh process runs autocannon's own code unoptimised for its first second
// or so, and that time would count as the server's (the bare CLI always measures it)
if (spec.warmSeconds) {
  await once(spec.warmSeconds);
  times = [];
}
const result = await once(spec.seconds);
times.sort((a, b) => a - b);
const at = (q: number) => (times.length ? times[Math.min(times.length - 1, Math.floor(q * times.length))]! : NaN);
const raw = {p50: at(0.5), p99: at(0.99), max: times.at(-1) ?? NaN, samples: times.length};
process.stdout.write(JSON.stringify({...result, raw}) + "\n");
