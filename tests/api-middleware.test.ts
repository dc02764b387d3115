/**
 * Each of the API's middleware alone, on a tiny Hono app with one route: what it lets through,
 * what it refuses and how it says so. (The whole app over real HTTP is tests/api*.test.ts.)
 */
import {Hono, type MiddlewareHandler} from "hono";
import {describe, expect, it} from "vitest";
import type {ApiEnv} from "../server/api/env.ts";
import {problemNotFound, problemOnError} from "../server/api/errors.ts";
import {createLogger} from "../server/api/log.ts";
import {apiKeyAuth} from "../server/api/middleware/api-key-auth.ts";
import {requestBodyLimit} from "../server/api/middleware/body-limit.ts";
import {corsAllowList} from "../server/api/middleware/cors.ts";
import {rateLimit} from "../server/api/middleware/rate-limit.ts";
import {requestId} from "../server/api/middleware/request-id.ts";
import {requestLog} from "../server/api/middleware/request-log.ts";
import {securityHeaders} from "../server/api/middleware/security-headers.ts";
import {requestTimeout} from "../server/api/middleware/timeout.ts";
import {createApiMetrics} from "../server/api/prometheus.ts";
import {newApiKey} from "../server/api/security.ts";
import {loadApiConfig} from "../server/api/settings.ts";

const silent = createLogger("silent");

/** An app with the given middleware, a few routes and the API's error answers. */
function appWith(...mw: MiddlewareHandler<ApiEnv>[]): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  for (const m of mw) app.use(m);
  app.get("/health", (c) => c.json({ok: true}));
  app.get("/docs", (c) => c.html("<p>docs</p>"));
  app.get("/customers/:id", (c) => c.json({id: c.req.param("id"), who: c.get("principal")?.name ?? null}));
  app.post("/echo", async (c) => c.json({length: (await c.req.text()).length}));
  app.get("/metrics", (c) => c.text("m"));
  app.get("/slow", async (c) => {
    const signal = c.get("abortSignal")();
    await new Promise((r) => setTimeout(r, 300));
    return c.json({aborted: signal.aborted});
  });
  app.onError(problemOnError(silent));
  app.notFound(problemNotFound);
  return app;
}

const problemOf = async (r: Response) => {
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await r.json()) as {status: number; detail: string; errors?: {field: string}[]};
};

describe("requestId", () => {
  const app = appWith(requestId());
  it("keeps a sensible caller id and replaces anything else with a UUID", async () => {
    const kept = await app.request("/health", {headers: {"x-request-id": "crm.sync:2026-12-05"}});
    expect(kept.headers.get("x-request-id")).toBe("crm.sync:2026-12-05");
    for (const bad of ["short", "has space in it", "<script>alert(1)</script>", "x".repeat(200)]) {
      const r = await app.request("/health", {headers: {"x-request-id": bad}});
      expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe("requestLog", () => {
  it("counts requests by route pattern (never by path) and logs errors with the request id", async () => {
    const metrics = createApiMetrics();
    const lines: {level: string; msg: string; fields: Record<string, unknown>}[] = [];
    const log = {
      ...silent,
      info: (msg: string, fields: Record<string, unknown> = {}) => lines.push({level: "info", msg, fields}),
      error: (msg: string, fields: Record<string, unknown> = {}) => lines.push({level: "error", msg, fields}),
    };
    const app = appWith(requestId(), requestLog({metrics, log}));
    await app.request("/customers/C000123", {headers: {"x-request-id": "trace-000000001"}});
    await app.request("/nowhere");
    const text = metrics.registry.render();
    expect(text).toContain('route="/customers/:id"');
    expect(text).not.toContain("C000123");
    expect(text).toContain('route="unmatched"');
    expect(lines[0]!.fields).toMatchObject({request_id: "trace-000000001", route: "/customers/:id", status: 200});
    expect(JSON.stringify(lines)).not.toContain("C000123");
  });
});

describe("securityHeaders", () => {
  const app = appWith(securityHeaders());
  it("deny-all CSP and no-store for JSON; Swagger UI's own CSP on /docs", async () => {
    const api = await app.request("/health");
    expect(api.headers.get("content-security-policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(api.headers.get("cache-control")).toBe("no-store");
    expect(api.headers.get("x-content-type-options")).toBe("nosniff");
    expect(api.headers.get("x-frame-options")).toBe("DENY");
    const docs = await app.request("/docs");
    expect(docs.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(docs.headers.get("cache-control")).toBeNull();
  });
});

describe("corsAllowList", () => {
  const app = appWith(corsAllowList({origins: ["https://crm.example.com"]}));
  const preflight = (origin?: string) =>
    app.request("/customers/C1", {
      method: "OPTIONS",
      headers: {...(origin ? {origin} : {}), "access-control-request-method": "GET"},
    });
  it("an allowed origin gets the CORS headers and its preflight a 204", async () => {
    const r = await app.request("/health", {headers: {origin: "https://crm.example.com"}});
    expect(r.headers.get("access-control-allow-origin")).toBe("https://crm.example.com");
    expect(r.headers.get("access-control-expose-headers")).toContain("X-Request-Id");
    const p = await preflight("https://crm.example.com");
    expect(p.status).toBe(204);
    expect(p.headers.get("access-control-allow-methods")).toContain("POST");
  });
  it("another origin gets no CORS headers, and its preflight (or one without Origin) a 403 problem", async () => {
    const r = await app.request("/health", {headers: {origin: "https://evil.example"}});
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    const p = await preflight("https://evil.example");
    expect(p.status).toBe(403);
    expect((await problemOf(p)).detail).toMatch(/not in ALLOWED_ORIGINS/);
    const none = await preflight();
    expect(none.status).toBe(403);
    expect((await problemOf(none)).detail).toMatch(/needs an Origin header/);
  });
});

describe("apiKeyAuth", () => {
  const reader = newApiKey("crm", "read");
  const admin = newApiKey("ops", "admin");
  const keys = loadApiConfig({API_KEYS: `${reader.entry},${admin.entry}`, API_HOST: "127.0.0.1"}).apiKeys;
  const app = appWith(apiKeyAuth({keys}));
  const bearer = (k: string) => ({headers: {authorization: `Bearer ${k}`}});
  it("public paths need no key; others need a valid one, and admin paths the admin role", async () => {
    expect((await app.request("/health")).status).toBe(200);
    expect((await app.request("/docs")).status).toBe(200);
    const missing = await app.request("/customers/C1");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await problemOf(missing)).errors?.[0]?.field).toBe("header.authorization");
    expect((await app.request("/customers/C1", bearer("sg_not_a_key"))).status).toBe(401);
    const ok = await app.request("/customers/C1", bearer(reader.key));
    expect(await ok.json()).toEqual({id: "C1", who: "crm"});
    expect((await app.request("/customers/C1", {headers: {"x-api-key": reader.key}})).status).toBe(200);
    const forbidden = await app.request("/metrics", bearer(reader.key));
    expect(forbidden.status).toBe(403);
    expect((await problemOf(forbidden)).detail).toMatch(/needs the admin role/);
    expect((await app.request("/metrics", bearer(admin.key))).status).toBe(200);
  });
  it("with no keys configured every caller is the local admin", async () => {
    const open = appWith(apiKeyAuth({keys: []}));
    expect(await (await open.request("/customers/C1")).json()).toEqual({id: "C1", who: "local"});
  });
});

describe("rateLimit", () => {
  it("lets the burst through, then answers 429 with Retry-After and counts it", async () => {
    const metrics = createApiMetrics();
    const app = appWith(rateLimit({perMinute: 60, burst: 3, byKey: false, metrics}));
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 5; i++) {
      last = await app.request("/health");
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(last!.headers.get("ratelimit-remaining")).toBe("0");
    expect((await problemOf(last!)).detail).toMatch(/rate limit of 60 requests per minute/);
    expect(metrics.registry.render()).toMatch(/rate_limited_total\{key="anonymous"\} 2/);
  });

  it("with API keys, each key has its own bucket", async () => {
    const a = newApiKey("crm-a", "read");
    const b = newApiKey("crm-b", "read");
    const keys = loadApiConfig({API_KEYS: `${a.entry},${b.entry}`, API_HOST: "127.0.0.1"}).apiKeys;
    const metrics = createApiMetrics();
    const app = appWith(apiKeyAuth({keys}), rateLimit({perMinute: 60, burst: 2, byKey: true, metrics}));
    const as = (k: string) => app.request("/customers/C1", {headers: {authorization: `Bearer ${k}`}});
    const statuses: number[] = [];
    for (const k of [a.key, a.key, a.key, b.key]) statuses.push((await as(k)).status);
    expect(statuses).toEqual([200, 200, 429, 200]);
    expect(metrics.registry.render()).toMatch(/rate_limited_total\{key="crm-a"\} 1/);
  });
});

describe("requestBodyLimit", () => {
  const app = appWith(requestBodyLimit({maxBytes: 100}));
  it("takes a body up to the limit and refuses a larger one, declared or streamed, with 413", async () => {
    expect((await app.request("/echo", {method: "POST", body: "x".repeat(100)})).status).toBe(200);
    const declared = await app.request("/echo", {
      method: "POST",
      body: "x".repeat(101),
      headers: {"content-length": "101"},
    });
    expect(declared.status).toBe(413);
    expect(declared.headers.get("connection")).toBe("close");
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode("y".repeat(50)));
        c.close();
      },
    });
    const streamed = await app.request("/echo", {method: "POST", body: chunks, duplex: "half"} as RequestInit);
    expect(streamed.status).toBe(413);
  });
});

describe("requestTimeout", () => {
  it("answers 503 when the handler is too slow, and aborts the signal the handler asked for", async () => {
    let signal: AbortSignal | null = null;
    const app = appWith(requestTimeout({ms: 50}));
    app.get("/watch", async (c) => {
      signal = c.get("abortSignal")();
      await new Promise((r) => setTimeout(r, 200));
      return c.json({late: true});
    });
    const r = await app.request("/watch");
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("5");
    expect((await problemOf(r)).detail).toMatch(/longer than 50 ms/);
    expect(signal!.aborted).toBe(true);
    const fast = appWith(requestTimeout({ms: 1000}));
    expect(await (await fast.request("/slow")).json()).toEqual({aborted: false});
  });
});
