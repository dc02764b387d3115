/**
 * Webhook targets: where churn alerts go. Read from the environment variable
 * SAASGUARD_WEBHOOKS (JSON) or else from a JSON file (SAASGUARD_ALERT_TARGETS, default
 * ./alerts.targets.json), validated with zod so a typo fails with the JSON path of the bad value.
 *
 *   {"targets": [
 *     {"name": "cs-slack", "url": "https://hooks.slack.com/services/…", "format": "slack", "secretEnv": "CS_SLACK_SECRET"},
 *     {"name": "crm", "url": "https://crm.example.com/hooks/saasguard", "format": "generic", "secret": "whsec_…"}
 *   ]}
 *
 * Every delivery is signed with the target's secret (Standard Webhooks: "whsec_" + base64 of
 * 24–64 random bytes). Prefer `secretEnv` (the name of an environment variable holding the
 * secret) so the file can be committed without secrets. The outbox stores target names only,
 * never secrets.
 */
import {existsSync, readFileSync} from "node:fs";
import {resolve} from "node:path";
import {z} from "zod";

const SECRET = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

function secretProblem(secret: string): string | null {
  if (!SECRET.test(secret)) return 'must look like "whsec_" followed by base64';
  const bytes = Buffer.from(secret.slice("whsec_".length), "base64").length;
  if (bytes < 24 || bytes > 64) return `must hold 24–64 random bytes (has ${bytes})`;
  return null;
}

const TargetSchema = z
  .object({
    /** stable name: used in the outbox and in logs (letters, digits, - and _) */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "must be 1–63 letters, digits, - or _"),
    url: z.url({protocol: /^https?$/, error: "must be an http(s) URL"}),
    /** "slack": Slack incoming-webhook JSON ({text, blocks}); "generic": a JSON event {type, timestamp, data} */
    format: z.enum(["slack", "generic"]).default("generic"),
    secret: z.string().optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name")
      .optional(),
    enabled: z.boolean().default(true),
    /** overrides alerting.delivery.requestTimeoutMs for this target */
    timeoutMs: z.number().int().positive().max(120_000).optional(),
  })
  .strict();

const FileSchema = z.union([z.object({targets: z.array(TargetSchema)}).strict(), z.array(TargetSchema)]);

export interface AlertTarget {
  name: string;
  url: string;
  format: "slack" | "generic";
  /** "whsec_…" signing secret, resolved from `secret` or `secretEnv` */
  secret: string;
  enabled: boolean;
  timeoutMs?: number;
}

export class TargetConfigError extends Error {
  override name = "TargetConfigError";
}

/** Validates targets from parsed JSON; `source` names where they came from in error messages. */
export function parseTargets(json: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AlertTarget[] {
  const parsed = FileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new TargetConfigError(`${source}: invalid webhook targets\n${lines.join("\n")}`);
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.targets;
  const prefix = Array.isArray(parsed.data) ? "" : "targets.";
  const problems: string[] = [];
  const names = new Set<string>();
  const targets: AlertTarget[] = [];
  list.forEach((t, i) => {
    const at = `${prefix}${i}`;
    if (names.has(t.name)) problems.push(`${at}.name: duplicate target name "${t.name}"`);
    names.add(t.name);
    if ((t.secret === undefined) === (t.secretEnv === undefined)) {
      problems.push(`${at}: give exactly one of "secret" or "secretEnv" (every delivery is signed)`);
      return;
    }
    const secret = t.secret ?? env[t.secretEnv!];
    if (secret === undefined || secret === "") {
      problems.push(`${at}.secretEnv: environment variable ${t.secretEnv} is not set`);
      return;
    }
    const bad = secretProblem(secret);
    if (bad) problems.push(`${at}.${t.secret !== undefined ? "secret" : `secretEnv (${t.secretEnv})`}: ${bad}`);
    targets.push({
      name: t.name,
      url: t.url,
      format: t.format,
      secret,
      enabled: t.enabled,
      ...(t.timeoutMs ? {timeoutMs: t.timeoutMs} : {}),
    });
  });
  if (problems.length)
    throw new TargetConfigError(`${source}: invalid webhook targets\n${problems.map((p) => `  ${p}`).join("\n")}`);
  return targets;
}

/**
 * The configured targets: SAASGUARD_WEBHOOKS wins over the file. Returns [] when neither is
 * set (alerts then stay in the warehouse's mart_alert_history only).
 */
export function loadTargets(opts: {file?: string; env?: NodeJS.ProcessEnv} = {}): {
  targets: AlertTarget[];
  source: string | null;
} {
  const env = opts.env ?? process.env;
  const inline = env.SAASGUARD_WEBHOOKS;
  if (inline !== undefined && inline.trim() !== "" && opts.file === undefined) {
    let json: unknown;
    try {
      json = JSON.parse(inline);
    } catch (e) {
      throw new TargetConfigError(`SAASGUARD_WEBHOOKS: not valid JSON (${(e as Error).message})`);
    }
    return {targets: parseTargets(json, "SAASGUARD_WEBHOOKS", env), source: "SAASGUARD_WEBHOOKS"};
  }
  const file = resolve(opts.file ?? env.SAASGUARD_ALERT_TARGETS ?? "alerts.targets.json");
  if (!existsSync(file)) {
    if (opts.file !== undefined || env.SAASGUARD_ALERT_TARGETS !== undefined)
      throw new TargetConfigError(`${file}: webhook targets file not found`);
    return {targets: [], source: null};
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new TargetConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return {targets: parseTargets(json, file, env), source: file};
}

/** A new random signing secret, for documentation and tests. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}
