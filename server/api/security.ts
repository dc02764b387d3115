/**
 * API keys, roles, per-key rate limits and CORS.
 *
 * - Keys are stored only as sha256 hashes (API_KEYS=name:role:hash,…). A presented key is
 *   hashed and compared with EVERY stored hash using `timingSafeEqual`, so the time taken does
 *   not depend on which key (if any) matched or how many leading bytes agreed.
 * - Roles: `read` (customers, predictions, summaries, CTAs) < `csm` (works their CTAs) < `lead`
 *   (works and reassigns any CTA) < `admin` (also metrics and reload). People signed in by a
 *   trusted proxy are csm or lead (middleware/api-key-auth.ts).
 * - Rate limits: a token bucket per key (per client address when no keys are configured).
 * - CORS: only origins in ALLOWED_ORIGINS get CORS headers; a preflight from any other origin is
 *   refused with 403 and no CORS headers.
 */
import {createHash, randomBytes, timingSafeEqual} from "node:crypto";
import type {ApiKeyEntry, Role} from "./settings.ts";

export function hashKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** A new random key and the API_KEYS entry that stores its hash. */
export function newApiKey(name: string, role: Role): {key: string; entry: string} {
  const key = `sg_${randomBytes(24).toString("base64url")}`;
  return {key, entry: `${name}:${role}:${hashKey(key).toString("hex")}`};
}

export interface Principal {
  name: string;
  role: Role;
  /** how the caller proved who they are */
  via: "api_key" | "proxy";
}

/** The matching key entry, or null. Constant time in the key and in which entry matches. */
export function verifyKey(presented: string, keys: readonly ApiKeyEntry[]): Principal | null {
  const h = hashKey(presented);
  let found: ApiKeyEntry | null = null;
  for (const k of keys) {
    // every entry is compared, no early exit
    const eq = timingSafeEqual(h, k.hash);
    if (eq && !found) found = k;
  }
  return found ? {name: found.name, role: found.role, via: "api_key"} : null;
}

export const ROLE_RANK: Record<Role, number> = {read: 1, csm: 2, lead: 3, admin: 4};

/** Reads the key from `Authorization: Bearer …` or `X-API-Key`. Undefined when none was sent. */
export function presentedKey(
  authorization: string | undefined,
  xApiKey: string | undefined,
): string | undefined | null {
  if (xApiKey !== undefined) return xApiKey.trim() || null;
  if (authorization === undefined) return undefined;
  const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization);
  return m ? m[1]! : null; // null: a malformed header
}

export class RateLimiter {
  private buckets = new Map<string, {tokens: number; at: number}>();
  private readonly perMs: number;
  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = perMinute / 60_000;
  }
  /** Takes one token for `id`; returns the seconds to wait when the bucket is empty. */
  take(id: string): {ok: true; remaining: number} | {ok: false; retryAfterS: number} {
    const t = this.now();
    let b = this.buckets.get(id);
    if (!b) {
      if (this.buckets.size > 100_000) this.sweep(t);
      this.buckets.set(id, (b = {tokens: this.burst, at: t}));
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.perMs);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return {ok: true, remaining: Math.floor(b.tokens)};
    }
    return {ok: false, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000))};
  }
  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
  }
}

export const CORS_ALLOW_METHODS = "GET, POST, PATCH, OPTIONS";
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-Request-Id";
export const CORS_EXPOSE_HEADERS = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining";
