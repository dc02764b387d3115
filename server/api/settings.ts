/**
 * The API server's settings, read from environment variables and validated with zod. A bad
 * value stops the server with one line per problem naming the variable, e.g.
 * `API_PORT: must be an integer between 0 and 65535 (got "80a")`.
 *
 * Business rules (tiers, quadrant thresholds, the watermark …) are NOT here: they live in
 * src/rules/config.ts. This module only holds how the server runs.
 */
import {isIP} from "node:net";
import {z} from "zod";

/**
 * Roles, weakest first: `read` (an integration reading scores), `csm` (works the CTAs of the
 * accounts they own or are assigned), `lead` (any CTA, and reassigns), `admin` (also metrics and reload).
 */
export const ROLES = ["read", "csm", "lead", "admin"] as const;
/** Roles a trusted proxy may give a person (admin stays with API keys). */
export const PERSON_ROLES = ["csm", "lead"] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKeyEntry {
  /** a label for logs and metrics (never the key itself) */
  name: string;
  role: Role;
  /** sha256 of the key, 32 bytes */
  hash: Buffer;
}

export interface LlmSettings {
  baseURL: string;
  apiKey: string;
  model: string;
}

export interface ApiConfig {
  port: number;
  host: string;
  warehousePath: string;
  modelsDir: string;
  apiKeys: ApiKeyEntry[];
  allowedOrigins: string[];
  rateLimitPerMinute: number;
  rateLimitBurst: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  predictionBatchLimit: number;
  reloadPollMs: number;
  llm: LlmSettings | null;
  llmTimeoutMs: number;
  llmMaxConcurrency: number;
  llmCircuitFailures: number;
  llmCircuitCooldownMs: number;
  summaryCacheSize: number;
  accountTokenSecret: string | null;
  logLevel: LogLevel;
  /** the operational store (SAASGUARD_STORE); null = a SQLite file beside the warehouse */
  store: string | null;
  /** people signed in by an authenticating reverse proxy; null = no proxy trusted */
  identityProxy: IdentityProxy | null;
  /**
   * predictions run before the server takes traffic (API_WARMUP_REQUESTS): through each loaded
   * model, and through the whole HTTP path at start (server/serve-api.ts warmUp); 0 = none
   */
  warmUpRequests: number;
}

/**
 * A reverse proxy that authenticates people (SSO) and passes who they are in a header — the
 * way self-hosted BI tools sit behind oauth2-proxy or an nginx auth_request. Only requests from
 * the listed addresses may carry the header; from anywhere else it is refused.
 */
export interface IdentityProxy {
  addresses: string[];
  /** header carrying the person's name as the CRM spells account owners (lower case) */
  userHeader: string;
  /** header carrying the role, csm or lead (lower case); absent = csm */
  roleHeader: string;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid API configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, {message: `must be an integer between ${min} and ${max}`})
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, {message: `must be at least ${min}`})
        .max(max, {message: `must be at most ${max}`}),
    );

const HEX64 = /^[0-9a-f]{64}$/;

const keyEntry = z.string().transform((s, ctx): ApiKeyEntry => {
  const parts = s.trim().split(":");
  if (parts.length !== 3) {
    ctx.addIssue({
      code: "custom",
      message: `entry "${s.trim().slice(0, 40)}" must be NAME:ROLE:SHA256HEX (make one with \`npm run api:key\`)`,
    });
    return z.NEVER;
  }
  const [name, role, hash] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    ctx.addIssue({code: "custom", message: `key name "${name.slice(0, 40)}" must be 1–64 letters, digits, _ . -`});
  if (!(ROLES as readonly string[]).includes(role))
    ctx.addIssue({code: "custom", message: `key "${name}": role "${role}" must be one of ${ROLES.join(", ")}`});
  if (!HEX64.test(hash.toLowerCase()))
    ctx.addIssue({
      code: "custom",
      message: `key "${name}": the hash must be 64 hex characters (the sha256 of the key, never the key itself)`,
    });
  return {name, role: role as Role, hash: Buffer.from(hash.toLowerCase(), "hex")};
});

const origin = z.string().transform((s, ctx) => {
  const t = s.trim();
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    ctx.addIssue({code: "custom", message: `"${t}" is not an origin like https://crm.example.com`});
    return z.NEVER;
  }
  if (!/^https?:$/.test(u.protocol) || u.origin !== t.replace(/\/$/, "")) {
    ctx.addIssue({code: "custom", message: `"${t}" is not an origin (scheme://host[:port], no path)`});
    return z.NEVER;
  }
  return u.origin;
});

const items = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);

const EnvSchema = z.object({
  API_PORT: int(0, 65535).optional(),
  PORT: int(0, 65535).optional(),
  API_HOST: z.string().trim().min(1).optional(),
  WAREHOUSE_PATH: z.string().trim().min(1).default("data/warehouse.duckdb"),
  MODELS_DIR: z.string().trim().min(1).default("models"),
  API_KEYS: items.pipe(z.array(keyEntry)).default([]),
  ALLOWED_ORIGINS: items.pipe(z.array(origin)).default([]),
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(600),
  RATE_LIMIT_BURST: int(1, 10_000_000).default(100),
  BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  PREDICTION_BATCH_LIMIT: int(1, 10_000).default(500),
  RELOAD_POLL_MS: int(0, 3_600_000).default(2000),
  API_WARMUP_REQUESTS: int(0, 100_000).default(1024),
  LLM_BASE_URL: z
    .url({protocol: /^https?$/, message: "must be an http(s) URL like http://127.0.0.1:11434/v1"})
    .optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().trim().min(1).optional(),
  LLM_TIMEOUT_MS: int(100, 600_000).default(10_000),
  LLM_MAX_CONCURRENCY: int(1, 256).default(4),
  LLM_CIRCUIT_FAILURES: int(1, 1000).default(5),
  LLM_CIRCUIT_COOLDOWN_MS: int(0, 3_600_000).default(30_000),
  SUMMARY_CACHE_SIZE: int(0, 1_000_000).default(1000),
  ACCOUNT_TOKEN_SECRET: z.string().min(16, {message: "must be at least 16 characters"}).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, {message: `must be one of ${LOG_LEVELS.join(", ")}`}).default("info"),
  SAASGUARD_STORE: z.string().trim().min(1).optional(),
  TRUSTED_PROXY_ADDRESSES: items
    .pipe(z.array(z.string().refine((s) => isIP(s) !== 0, {message: "must list IP addresses, e.g. 127.0.0.1"})))
    .default([]),
  IDENTITY_HEADER: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,64}$/, {message: "must be a header name like X-Forwarded-User"})
    .default("x-forwarded-user"),
  IDENTITY_ROLE_HEADER: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,64}$/, {message: "must be a header name like X-Forwarded-Role"})
    .default("x-forwarded-role"),
});

/** Reads the configuration from `env` (empty strings count as unset). Throws ConfigError. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const clean: Record<string, string> = {};
  for (const k of Object.keys(EnvSchema.shape)) {
    const v = env[k];
    if (v !== undefined && v !== "") clean[k] = v;
  }
  const r = EnvSchema.safeParse(clean);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => {
        const name = String(i.path[0] ?? "environment");
        const got = clean[name];
        const shown =
          name === "API_KEYS" ||
          name === "LLM_API_KEY" ||
          name === "ACCOUNT_TOKEN_SECRET" ||
          name === "SAASGUARD_STORE" ||
          got === undefined
            ? ""
            : ` (got "${got.slice(0, 60)}")`;
        return `${name}: ${i.message}${shown}`;
      }),
    );
  }
  const e = r.data;
  const problems: string[] = [];
  let llm: LlmSettings | null = null;
  if (e.LLM_BASE_URL || e.LLM_MODEL) {
    if (!e.LLM_BASE_URL)
      problems.push(
        "LLM_BASE_URL: must be set when LLM_MODEL is (the OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1)",
      );
    if (!e.LLM_MODEL) problems.push("LLM_MODEL: must be set when LLM_BASE_URL is (the model name the endpoint serves)");
    if (e.LLM_BASE_URL && e.LLM_MODEL)
      llm = {baseURL: e.LLM_BASE_URL.replace(/\/$/, ""), apiKey: e.LLM_API_KEY ?? "not-needed", model: e.LLM_MODEL};
  }
  const names = new Set<string>();
  for (const k of e.API_KEYS) {
    if (names.has(k.name)) problems.push(`API_KEYS: the key name "${k.name}" appears twice`);
    names.add(k.name);
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    port: e.API_PORT ?? e.PORT ?? 8000,
    host: e.API_HOST ?? "127.0.0.1",
    warehousePath: e.WAREHOUSE_PATH,
    modelsDir: e.MODELS_DIR,
    apiKeys: e.API_KEYS,
    allowedOrigins: e.ALLOWED_ORIGINS,
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: e.RATE_LIMIT_BURST,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    predictionBatchLimit: e.PREDICTION_BATCH_LIMIT,
    reloadPollMs: e.RELOAD_POLL_MS,
    warmUpRequests: e.API_WARMUP_REQUESTS,
    llm,
    llmTimeoutMs: e.LLM_TIMEOUT_MS,
    llmMaxConcurrency: e.LLM_MAX_CONCURRENCY,
    llmCircuitFailures: e.LLM_CIRCUIT_FAILURES,
    llmCircuitCooldownMs: e.LLM_CIRCUIT_COOLDOWN_MS,
    summaryCacheSize: e.SUMMARY_CACHE_SIZE,
    accountTokenSecret: e.ACCOUNT_TOKEN_SECRET ?? null,
    logLevel: e.LOG_LEVEL,
    store: e.SAASGUARD_STORE ?? null,
    identityProxy: e.TRUSTED_PROXY_ADDRESSES.length
      ? {
          addresses: e.TRUSTED_PROXY_ADDRESSES,
          userHeader: e.IDENTITY_HEADER.toLowerCase(),
          roleHeader: e.IDENTITY_ROLE_HEADER.toLowerCase(),
        }
      : null,
  };
}

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/**
 * The listening rule: without API keys the server only listens on loopback. Returns an error
 * message for a configuration that would expose an unauthenticated API, else null.
 */
export function checkExposure(c: Pick<ApiConfig, "host" | "apiKeys">): string | null {
  if (c.apiKeys.length === 0 && !isLoopbackHost(c.host))
    return `API_HOST=${c.host}: refusing to listen on a non-loopback address without API keys — set API_KEYS (see \`npm run api:key\`) or listen on 127.0.0.1`;
  return null;
}
