/**
 * The SaaSGuard API server (Hono on Node): `npm run api` runs it alone; `npm start` runs it
 * beside the static site. Settings come from environment variables (server/api/settings.ts):
 * API_PORT (default 8000), API_HOST (default 127.0.0.1), WAREHOUSE_PATH, MODELS_DIR, API_KEYS,
 * ALLOWED_ORIGINS, LLM_BASE_URL / LLM_API_KEY / LLM_MODEL, and limits.
 *
 * `startApi()` is also what the tests and the benchmark call.
 */
import {isMainModule} from "../loaders/cli/command.ts";
import {serve, type ServerType} from "@hono/node-server";
import {Agent, request, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {answerClientErrors, slowClientOptions} from "./http-server.ts";
import {createApiApp, type ApiApp, type ApiDeps} from "./api/app.ts";
import {checkExposure, ConfigError, isLoopbackHost, loadApiConfig, type ApiConfig} from "./api/settings.ts";
import {WarehouseStore} from "./api/data.ts";
import {createLogger, type Logger} from "./api/log.ts";
import {createApiMetrics, type ApiMetrics} from "./api/prometheus.ts";
import {ModelStore} from "./api/served-model.ts";
import {loadReadModel} from "./api/queries.ts";
import {LlmClient} from "./api/summaries/llm.ts";
import {SummaryService} from "./api/summaries/service.ts";
import {openStore} from "../loaders/store/index.ts";
import {storeSettingFor} from "../loaders/store/location.ts";
import type {OperationalStore} from "../loaders/store/types.ts";

export interface ApiServer {
  url: string;
  port: number;
  host: string;
  config: ApiConfig;
  app: ApiApp;
  metrics: ApiMetrics;
  warehouse: WarehouseStore;
  models: ModelStore;
  store: OperationalStore;
  close(): Promise<void>;
}

export interface StartApiOptions {
  /** environment to read settings from (default process.env) */
  env?: Record<string, string | undefined>;
  /** settings that win over the environment (tests) */
  overrides?: Partial<ApiConfig>;
  /** a logger (default: JSON lines on stdout at LOG_LEVEL) */
  log?: Logger;
}

export async function startApi(options: StartApiOptions = {}): Promise<ApiServer> {
  const config: ApiConfig = {...loadApiConfig(options.env ?? process.env), ...options.overrides};
  const exposure = checkExposure(config);
  if (exposure) throw new ConfigError([exposure]);
  const log = options.log ?? createLogger(config.logLevel);
  const metrics = createApiMetrics();
  // the store's migrations run at start: a store the API cannot open or upgrade stops it here
  const store = await openStore(config.store ?? storeSettingFor(config.warehousePath, {}));
  try {
    await store.migrate();
  } catch (e) {
    await store.close();
    throw e;
  }
  const warehouse = new WarehouseStore(config.warehousePath, log, metrics, loadReadModel);
  const models = new ModelStore(config.modelsDir, log, metrics, config.warmUpRequests);
  await Promise.all([warehouse.check(), models.check()]);
  warehouse.watch(config.reloadPollMs);
  models.watch(config.reloadPollMs);
  const llm = config.llm
    ? new LlmClient(
        config.llm,
        {
          timeoutMs: config.llmTimeoutMs,
          maxConcurrency: config.llmMaxConcurrency,
          circuitFailures: config.llmCircuitFailures,
          circuitCooldownMs: config.llmCircuitCooldownMs,
        },
        metrics,
      )
    : null;
  const summaries = new SummaryService(llm, metrics, log, config.summaryCacheSize);
  const deps: ApiDeps = {config, warehouse, models, summaries, store, metrics, log, startedAt: Date.now()};
  const app = createApiApp(deps);
  // before the port opens: the first clients (and /ready) meet a warmed server
  try {
    await warmUp(deps, config.warmUpRequests);
  } catch (e) {
    log.warn("start-up warm-up failed; serving cold", {error: (e as Error).message});
  }

  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      // slow-loris protection: headers within 10 s, the whole request within the app's timeout + 5 s
      // (the app's own timeout answers first; these are the backstop, answered by answerClientErrors)
      const serverOptions = slowClientOptions({
        headersTimeoutMs: 10_000,
        requestTimeoutMs: config.requestTimeoutMs + 5_000,
      });
      const s = serve({fetch: app.fetch, port: config.port, hostname: config.host, serverOptions}, () => resolve(s));
      s.once("error", reject);
    });
  } catch (e) {
    warehouse.close();
    models.close();
    await store.close();
    throw e;
  }
  const http = server as ServerType & {closeAllConnections?: () => void; closeIdleConnections?: () => void};
  answerClientErrors(server as Server, (f) => log.warn("request refused by the HTTP parser", f));
  const port = (server.address() as AddressInfo).port;
  const urlHost = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${urlHost}:${port}`;
  log.info("SaaSGuard API listening", {
    url,
    auth: config.apiKeys.length
      ? `${config.apiKeys.length} API key(s)`
      : "none (no API_KEYS: listening on loopback only; every local caller is admin)",
    loopback_only: isLoopbackHost(config.host),
    cors_origins: config.allowedOrigins.length,
    summaries: config.llm
      ? `LLM at ${new URL(config.llm.baseURL).host} (${config.llm.model})`
      : "built-in summariser (no LLM_BASE_URL)",
    warehouse: warehouse.current ? warehouse.current.info.built_at : `not available: ${warehouse.lastError}`,
    model: models.current ? models.current.version : `not available: ${models.lastError}`,
  });
  let closed = false;
  return {
    url,
    port,
    host: config.host,
    config,
    app,
    metrics,
    warehouse,
    models,
    store,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          http.closeAllConnections?.();
          resolve();
        }, 10_000);
        t.unref();
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        http.closeIdleConnections?.();
      });
      warehouse.close();
      models.close();
      await store.close();
    },
  };
}

/**
 * Sends `requests` made-up predictions through the whole request path — Node's HTTP server,
 * @hono/node-server, every middleware, the route, the model and its TreeSHAP worker — 32 at a
 * time, over loopback, before the server takes traffic. Measured from a separate process right
 * after a start (autocannon at 500 req/s on 32 connections, a quiet 2-core machine), the first
 * seconds of a cold server made the run's p99 42–114 ms (max 105–198 ms) against 22–27 ms
 * (max 35–41 ms) after this warm-up: V8 runs the HTTP and routing code unoptimised until it has
 * seen a few hundred requests, and calling the app without a socket (`app.request`) or warming
 * the model alone did not help. The requests go to a second instance of the app on a port of
 * its own, with a silent log and metrics of its own, so the real log, metrics and rate limits
 * never see them; it shares the real one's model, warehouse and store.
 */
async function warmUp(deps: ApiDeps, requests: number): Promise<void> {
  const m = deps.models.current;
  if (!m || requests <= 0) return;
  const app = createApiApp({
    ...deps,
    config: {
      ...deps.config,
      apiKeys: [],
      identityProxy: null,
      rateLimitPerMinute: 10_000_000,
      rateLimitBurst: 10_000_000,
    },
    log: createLogger("silent"),
    metrics: createApiMetrics(),
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({fetch: app.fetch, port: 0, hostname: "127.0.0.1"}, () => resolve(s));
    s.once("error", reject);
  });
  const agent = new Agent({keepAlive: true, maxSockets: 32});
  try {
    const port = (server.address() as AddressInfo).port;
    const bodies = m.sampleRows(requests).map((features) => JSON.stringify({features}));
    const refused = new Map<number, number>();
    const post = (body: string) =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          {
            agent,
            host: "127.0.0.1",
            port,
            path: "/predictions/churn",
            method: "POST",
            headers: {"content-type": "application/json"},
          },
          (res) => {
            if (res.statusCode !== 200) refused.set(res.statusCode ?? 0, (refused.get(res.statusCode ?? 0) ?? 0) + 1);
            res.resume().once("end", resolve).once("error", reject);
          },
        );
        req.once("error", reject);
        req.end(body);
      });
    for (let i = 0; i < bodies.length; i += 32) await Promise.all(bodies.slice(i, i + 32).map(post));
    // e.g. BODY_LIMIT_BYTES below a prediction's size: the warm-up then warmed the error path only
    if (refused.size)
      deps.log.warn("start-up warm-up requests were refused; the prediction path starts cold", {
        statuses: Object.fromEntries(refused),
      });
  } finally {
    agent.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Human lines for the terminal (the JSON log has the details). */
export function describeApi(s: ApiServer): string[] {
  const lines = [`SaaSGuard API: ${s.url}/  (docs: ${s.url}/docs)`];
  if (!s.config.apiKeys.length)
    lines.push(
      `  no API keys configured (API_KEYS): listening on ${s.host} only — add keys with \`npm run api:key\` to listen elsewhere`,
    );
  return lines;
}

async function main(): Promise<void> {
  try {
    const s = await startApi();
    for (const l of describeApi(s)) console.error(l);
    const stop = () => void s.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `API server failed to start: ${(e as Error).message}`);
    process.exit(1);
  }
}

if (isMainModule(import.meta.url)) await main();
