/**
 * Verifies a SaaSGuard webhook delivery — the helper receivers use (Standard Webhooks style).
 *
 *   import {verifyWebhook} from "./webhook-verify.ts";
 *   const event = verifyWebhook(secret, rawBody, request.headers);   // throws if not genuine
 *   if (alreadySeen(headers["webhook-id"])) return 200;             // de-duplicate on the id
 *
 * Checks, in order: the three headers are present; the timestamp is within `toleranceSeconds`
 * of now (a stale or future timestamp is a replay, rejected even with a valid signature); one of
 * the space-separated `v1,<base64>` signatures equals HMAC-SHA256(secret, `${id}.${ts}.${body}`),
 * compared in constant time. Verify the RAW body bytes exactly as received, before any JSON
 * parsing. No project imports, only node:crypto, so receivers can copy this file.
 */
import {createHmac, timingSafeEqual} from "node:crypto";

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const v = bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/** "v1," + base64 HMAC-SHA256 of `${id}.${timestamp}.${body}` with the secret's key bytes. */
export function computeSignature(
  secret: string,
  id: string,
  timestamp: number | string,
  body: string | Uint8Array,
): string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const mac = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(typeof body === "string" ? Buffer.from(body, "utf8") : body);
  return `v1,${mac.digest("base64")}`;
}

export interface VerifyOptions {
  /** accepted clock difference in seconds (default 300, as Standard Webhooks recommends) */
  toleranceSeconds?: number;
  /** current time in ms (tests) */
  now?: number;
}

/**
 * Throws WebhookVerificationError unless the delivery is genuine and fresh; returns the id,
 * timestamp and parsed JSON payload.
 */
export function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  headers: HeaderBag,
  opts: VerifyOptions = {},
): {id: string; timestamp: number; payload: unknown} {
  const id = header(headers, "webhook-id");
  const ts = header(headers, "webhook-timestamp");
  const sigs = header(headers, "webhook-signature");
  if (!id || !ts || !sigs)
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  if (!/^\d+$/.test(ts)) throw new WebhookVerificationError("webhook-timestamp is not a Unix time in seconds");
  const timestamp = Number(ts);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const tolerance = opts.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance)
    throw new WebhookVerificationError(
      `webhook-timestamp is ${now - timestamp} s from now (tolerance ${tolerance} s): stale or replayed`,
    );
  const expected = Buffer.from(computeSignature(secret, id, timestamp, body).slice(3), "base64");
  const ok = sigs.split(" ").some((s) => {
    const [version, value] = s.split(",", 2);
    if (version !== "v1" || !value) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new WebhookVerificationError("no valid signature: wrong secret or the body was changed");
  const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError("body is not JSON");
  }
  return {id, timestamp, payload};
}
