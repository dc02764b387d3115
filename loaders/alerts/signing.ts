/**
 * Signs a delivery in the style of the Standard Webhooks spec (standardwebhooks.com):
 *   webhook-id         the message id; the same on every retry, so receivers de-duplicate on it
 *   webhook-timestamp  Unix seconds of this attempt; receivers reject stale ones (replays)
 *   webhook-signature  "v1," + base64(HMAC-SHA256(secret bytes, `${id}.${timestamp}.${body}`))
 * The secret is "whsec_" + base64 of the key bytes. server/webhook-verify.ts is the matching
 * verifier for receivers (kept free of project imports so receivers can copy it).
 */
import {createHmac} from "node:crypto";

export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
}

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    "content-type": "application/json",
    "user-agent": "SaaSGuard-Webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": sign(secret, id, timestamp, body),
  };
}
