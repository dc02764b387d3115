/** The static site server: clean URLs, content types, gzip (precompressed and on the fly), safety. */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serveSite, type SiteServer } from "../server/site.ts";

describe("serveSite", () => {
  let dir: string;
  let server: SiteServer;
  const bigJs = `export const x = ${JSON.stringify("a".repeat(50_000))};\n`;
  const wasm = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(20_000, 7)]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-site-server-"));
    await mkdir(path.join(dir, "_npm/pkg@1.0.0/dist"), { recursive: true });
    await mkdir(path.join(dir, "_file/data"), { recursive: true });
    await mkdir(path.join(dir, "reports"), { recursive: true });
    await writeFile(path.join(dir, "index.html"), "<!doctype html><title>home</title>");
    await writeFile(path.join(dir, "customers.html"), "<!doctype html><title>customers</title>");
    await writeFile(path.join(dir, "reports/index.html"), "<!doctype html><title>reports</title>");
    await writeFile(path.join(dir, "404.html"), "<!doctype html><title>not found</title>");
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/app.js"), bigJs);
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/dist/x.wasm"), wasm);
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/dist/x.wasm.gz"), gzipSync(wasm));
    await writeFile(path.join(dir, "_file/data/t.abc123.parquet"), Buffer.from("PAR1....PAR1"));
    await writeFile(path.join(dir, ".env"), "SECRET=1");
    server = await serveSite({ dir, port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (p: string, init: RequestInit = {}) => fetch(new URL(p, server.url), init);

  test("listens on 127.0.0.1 and serves clean URLs", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await (await get("/")).text()).toContain("<title>home</title>");
    expect(await (await get("/customers")).text()).toContain("customers");
    expect(await (await get("/customers.html")).text()).toContain("customers");
    expect(await (await get("/reports/")).text()).toContain("reports");
    const r = await get("/");
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("cache-control")).toBe("no-cache");
  });

  test("content types for wasm, parquet and js", async () => {
    expect((await get("/_npm/pkg@1.0.0/dist/x.wasm")).headers.get("content-type")).toBe("application/wasm");
    expect((await get("/_file/data/t.abc123.parquet")).headers.get("content-type")).toBe("application/vnd.apache.parquet");
    const js = await get("/_npm/pkg@1.0.0/app.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
  });

  test("sends the precompressed .gz sibling when gzip is accepted, the raw file otherwise", async () => {
    // node's fetch decodes gzip transparently; compare the bytes we get back
    const gz = await get("/_npm/pkg@1.0.0/dist/x.wasm", { headers: { "accept-encoding": "gzip" } });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await gz.arrayBuffer()).equals(wasm)).toBe(true);
    const raw = await get("/_npm/pkg@1.0.0/dist/x.wasm", { headers: { "accept-encoding": "identity" } });
    expect(raw.headers.get("content-encoding")).toBeNull();
    expect(Number(raw.headers.get("content-length"))).toBe(wasm.length);
    // the .gz file itself is not addressable
    expect((await get("/_npm/pkg@1.0.0/dist/x.wasm.gz")).status).toBe(404);
  });

  test("gzips compressible responses on the fly, leaves parquet alone", async () => {
    const { request } = await import("node:http");
    const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      request(new URL("/_npm/pkg@1.0.0/app.js", server.url), { headers: { "accept-encoding": "gzip" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
      }).on("error", reject).end();
    });
    expect(raw.encoding).toBe("gzip");
    expect(gunzipSync(raw.body).toString()).toBe(bigJs);
    const parquet = await get("/_file/data/t.abc123.parquet", { headers: { "accept-encoding": "gzip" } });
    expect(parquet.headers.get("content-encoding")).toBeNull();
  });

  test("404 page, no dot-files, no path traversal, read-only", async () => {
    const missing = await get("/nope");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("not found");
    expect((await get("/.env")).status).toBe(404);
    expect((await get("/..%2f..%2fetc%2fpasswd")).status).toBe(404);
    expect((await get("/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    expect((await get("/", { method: "POST" })).status).toBe(405);
  });

  test("refuses to serve a directory without a built site", async () => {
    await expect(serveSite({ dir: path.join(dir, "reports", "missing"), port: 0 })).rejects.toThrow(/no index\.html/);
  });
});
