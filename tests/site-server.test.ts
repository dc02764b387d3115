/** The static site server: clean URLs, content types, brotli/gzip (precompressed and on the fly), validators, safety. */
import {mkdtemp, mkdir, rm, symlink, writeFile} from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync} from "node:zlib";
import {afterAll, beforeAll, describe, expect, test} from "vitest";
import {serveSite, type SiteServer} from "../server/site.ts";

describe("serveSite", () => {
  let dir: string;
  let server: SiteServer;
  const bigJs = `export const x = ${JSON.stringify("a".repeat(50_000))};\n`;
  const wasm = Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(20_000, 7)]);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-site-server-"));
    await mkdir(path.join(dir, "_npm/pkg@1.0.0/dist"), {recursive: true});
    await mkdir(path.join(dir, "_file/data"), {recursive: true});
    await mkdir(path.join(dir, "reports"), {recursive: true});
    await writeFile(path.join(dir, "index.html"), "<!doctype html><title>home</title>");
    await writeFile(path.join(dir, "customers.html"), "<!doctype html><title>customers</title>");
    await writeFile(path.join(dir, "reports/index.html"), "<!doctype html><title>reports</title>");
    await writeFile(path.join(dir, "404.html"), "<!doctype html><title>not found</title>");
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/app.js"), bigJs);
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/dist/x.wasm"), wasm);
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/dist/x.wasm.gz"), gzipSync(wasm));
    await writeFile(path.join(dir, "_npm/pkg@1.0.0/dist/x.wasm.br"), brotliCompressSync(wasm));
    await writeFile(path.join(dir, "_file/data/t.abc123.arrows"), Buffer.alloc(5_000, 1));
    await writeFile(path.join(dir, "_file/data/t.abc123.arrow"), Buffer.alloc(5_000, 1));
    await writeFile(path.join(dir, "_file/data/t.abc123.parquet"), Buffer.from("PAR1....PAR1"));
    await writeFile(path.join(dir, ".env"), "SECRET=1");
    server = await serveSite({dir, port: 0});
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, {recursive: true, force: true});
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
    const wasmResponse = await get("/_npm/pkg@1.0.0/dist/x.wasm");
    expect(wasmResponse.headers.get("content-type")).toBe("application/wasm");
    // a module the build rewrites (duckdb-wasm's, trimmed) keeps its package path: revalidated, not immutable
    expect(wasmResponse.headers.get("cache-control")).toBe("no-cache");
    const again = await get("/_npm/pkg@1.0.0/dist/x.wasm", {
      headers: {"if-none-match": wasmResponse.headers.get("etag")!},
    });
    expect(again.status).toBe(304);
    expect((await get("/_file/data/t.abc123.parquet")).headers.get("content-type")).toBe(
      "application/vnd.apache.parquet",
    );
    expect((await get("/_file/data/t.abc123.arrow")).headers.get("content-type")).toBe(
      "application/vnd.apache.arrow.stream",
    );
    expect((await get("/_file/data/t.abc123.arrows")).headers.get("content-type")).toBe(
      "application/vnd.apache.arrow.stream",
    );
    const js = await get("/_npm/pkg@1.0.0/app.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toContain("immutable");
  });

  test("sends the precompressed .gz sibling when gzip is accepted, the raw file otherwise", async () => {
    // node's fetch decodes gzip transparently; compare the bytes we get back
    const gz = await get("/_npm/pkg@1.0.0/dist/x.wasm", {headers: {"accept-encoding": "gzip"}});
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await gz.arrayBuffer()).equals(wasm)).toBe(true);
    const raw = await get("/_npm/pkg@1.0.0/dist/x.wasm", {headers: {"accept-encoding": "identity"}});
    expect(raw.headers.get("content-encoding")).toBeNull();
    expect(Number(raw.headers.get("content-length"))).toBe(wasm.length);
    // the .gz file itself is not addressable
    expect((await get("/_npm/pkg@1.0.0/dist/x.wasm.gz")).status).toBe(404);
  });

  test("prefers the precompressed .br sibling when brotli is accepted (as Chromium does on localhost)", async () => {
    const {request} = await import("node:http");
    const raw = (encoding: string) =>
      new Promise<{encoding?: string; body: Buffer}>((resolve, reject) => {
        request(new URL("/_npm/pkg@1.0.0/dist/x.wasm", server.url), {headers: {"accept-encoding": encoding}}, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({encoding: res.headers["content-encoding"], body: Buffer.concat(chunks)}));
        })
          .on("error", reject)
          .end();
      });
    const br = await raw("gzip, deflate, br, zstd");
    expect(br.encoding).toBe("br");
    expect(brotliDecompressSync(br.body).equals(wasm)).toBe(true);
    // q=0 refuses an encoding
    expect((await raw("br;q=0, gzip")).encoding).toBe("gzip");
    expect((await get("/_npm/pkg@1.0.0/dist/x.wasm.br")).status).toBe(404);
  });

  test("ETag and Last-Modified validators: a matching revalidation gets 304 with no body", async () => {
    const first = await get("/customers");
    const etag = first.headers.get("etag");
    const lastModified = first.headers.get("last-modified");
    expect(etag).toMatch(/^".+"$/); // strong: the build replaces files, never edits them
    expect(lastModified).toBeTruthy();
    const again = await get("/customers", {headers: {"if-none-match": etag!}});
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect((await get("/customers", {headers: {"if-modified-since": lastModified!}})).status).toBe(304);
    // another representation (or an old version) is sent in full
    expect((await get("/customers", {headers: {"if-none-match": 'W/"other"'}})).status).toBe(200);
    expect((await get("/customers", {headers: {"if-modified-since": new Date(0).toUTCString()}})).status).toBe(200);
    // compressed and identity representations carry different validators
    const gz = await get("/_npm/pkg@1.0.0/dist/x.wasm", {headers: {"accept-encoding": "gzip"}});
    const id = await get("/_npm/pkg@1.0.0/dist/x.wasm", {headers: {"accept-encoding": "identity"}});
    expect(gz.headers.get("etag")).not.toBe(id.headers.get("etag"));
  });

  test("gzips compressible responses on the fly, leaves parquet alone", async () => {
    const {request} = await import("node:http");
    const raw = await new Promise<{encoding?: string; body: Buffer}>((resolve, reject) => {
      request(new URL("/_npm/pkg@1.0.0/app.js", server.url), {headers: {"accept-encoding": "gzip"}}, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({encoding: res.headers["content-encoding"], body: Buffer.concat(chunks)}));
      })
        .on("error", reject)
        .end();
    });
    expect(raw.encoding).toBe("gzip");
    expect(gunzipSync(raw.body).toString()).toBe(bigJs);
    const parquet = await get("/_file/data/t.abc123.parquet", {headers: {"accept-encoding": "gzip"}});
    expect(parquet.headers.get("content-encoding")).toBeNull();
  });

  test("404 page, no dot-files, no path traversal, read-only", async () => {
    const missing = await get("/nope");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("not found");
    expect((await get("/.env")).status).toBe(404);
    expect((await get("/..%2f..%2fetc%2fpasswd")).status).toBe(404);
    expect((await get("/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    expect((await get("/", {method: "POST"})).status).toBe(405);
  });

  test("refuses to serve a directory without a built site", async () => {
    await expect(serveSite({dir: path.join(dir, "reports", "missing"), port: 0})).rejects.toThrow(/no index\.html/);
  });
});

/** Raw HTTP on one connection: what the server answers, and when it closes the connection. */
function rawExchange(port: number, chunks: string[], gapMs: number): Promise<{text: string; closedAfterMs: number}> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const sock = net.connect(port, "127.0.0.1");
    let text = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => (text += d));
    sock.on("error", reject);
    const queue = [...chunks];
    const timer = setInterval(() => {
      const next = queue.shift();
      if (next !== undefined && !sock.destroyed) sock.write(next);
    }, gapMs);
    sock.on("close", () => {
      clearInterval(timer);
      resolve({text, closedAfterMs: performance.now() - t0});
    });
  });
}

describe("serveSite against a hostile client", () => {
  let dir: string;
  let outside: string;
  let server: SiteServer;
  const data = Buffer.from(Array.from({length: 5000}, (_, i) => i % 251));
  const js = `export const y = ${JSON.stringify("b".repeat(20_000))};\n`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "saasguard-site-hostile-"));
    outside = await mkdtemp(path.join(os.tmpdir(), "saasguard-outside-"));
    await writeFile(path.join(outside, "secret.txt"), "not for the web");
    await mkdir(path.join(outside, "folder"));
    await writeFile(path.join(outside, "folder", "inner.txt"), "not for the web either");
    await mkdir(path.join(dir, "_file/data"), {recursive: true});
    await writeFile(path.join(dir, "index.html"), "<!doctype html><title>home</title>");
    await writeFile(path.join(dir, "_file/data/t.parquet"), data);
    await writeFile(path.join(dir, "_file/data/app.js"), js);
    await symlink(path.join(outside, "secret.txt"), path.join(dir, "leak.txt"));
    await symlink(path.join(outside, "folder"), path.join(dir, "linked"));
    await symlink(path.join(dir, "_file/data/t.parquet"), path.join(dir, "inside-link.parquet"));
    server = await serveSite({dir, port: 0, limits: {headersTimeoutMs: 1000, requestTimeoutMs: 2000}});
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, {recursive: true, force: true});
    await rm(outside, {recursive: true, force: true});
  });
  const get = (p: string, headers: Record<string, string> = {}) => fetch(new URL(p, server.url), {headers});

  test("a symlink out of the site folder (file or directory) is not followed; one inside it is", async () => {
    expect((await get("/leak.txt")).status).toBe(404);
    expect((await get("/linked/inner.txt")).status).toBe(404);
    const inside = await get("/inside-link.parquet");
    expect(inside.status).toBe(200);
    expect(Buffer.from(await inside.arrayBuffer()).equals(data)).toBe(true);
  });

  test("a precompressed sibling or 404.html symlinked out of the site folder is not sent", async () => {
    const site = await mkdtemp(path.join(os.tmpdir(), "saasguard-site-siblings-"));
    try {
      await writeFile(path.join(site, "index.html"), "<!doctype html><title>home</title>");
      await writeFile(path.join(site, "app.js"), js);
      await symlink(path.join(outside, "secret.txt"), path.join(site, "app.js.gz"));
      await symlink(path.join(outside, "secret.txt"), path.join(site, "app.js.br"));
      await symlink(path.join(outside, "secret.txt"), path.join(site, "404.html"));
      const s = await serveSite({dir: site, port: 0});
      try {
        const missing = await fetch(new URL("/nope", s.url));
        expect(missing.status).toBe(404);
        expect(await missing.text()).not.toContain("not for the web");
        for (const accept of ["br", "gzip"]) {
          const r = await fetch(new URL("/app.js", s.url), {headers: {"accept-encoding": accept}});
          expect(r.status).toBe(200);
          // the symlinked sibling is skipped: gzip is made on the fly from app.js, br falls back to identity
          expect(r.headers.get("content-encoding"), accept).toBe(accept === "gzip" ? "gzip" : null);
          expect(await r.text()).toBe(js);
        }
      } finally {
        await s.close();
      }
    } finally {
      await rm(site, {recursive: true, force: true});
    }
  });

  test("a client that sends its headers a byte at a time is cut off at the headers timeout", async () => {
    const request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(200);
    const r = await rawExchange(server.port, [...request], 50);
    expect(r.closedAfterMs).toBeLessThan(4000); // 1 s limit, checked every 0.5 s; it was 74 s
    expect(r.text).toMatch(/^HTTP\/1\.1 408/);
    expect(r.text).toContain("application/problem+json");
  });

  test("Accept-Encoding is read with q-values and *; every ETag names the representation sent", async () => {
    const seen = new Map<string, string>();
    for (const [accept, expected] of [
      ["*", "gzip"],
      ["gzip;q=0, br", "identity"],
      ["identity", "identity"],
      ["*;q=0", "identity"],
      ["gzip, *;q=0", "gzip"],
      ["br;q=0, *", "gzip"],
      ["", "identity"],
    ] as const) {
      const r = await fetch(new URL("/_file/data/app.js", server.url), {headers: {"accept-encoding": accept}});
      const sent = r.headers.get("content-encoding") ?? "identity";
      expect(sent, accept).toBe(expected);
      expect(r.headers.get("vary")).toBe("Accept-Encoding");
      const tag = r.headers.get("etag")!;
      if (seen.has(sent)) expect(tag).toBe(seen.get(sent));
      for (const [enc, t] of seen) if (enc !== sent) expect(tag, `${accept}: ${sent} vs ${enc}`).not.toBe(t);
      seen.set(sent, tag);
      const raw = Buffer.from(await r.arrayBuffer());
      // fetch decodes gzip itself; the bytes are the file either way
      expect(raw.toString()).toBe(js);
    }
  });

  test("single byte ranges get 206 of the raw bytes, unsatisfiable ones 416, several the whole file; If-Range is honoured", async () => {
    const range = async (value: string, extra: Record<string, string> = {}) => {
      const r = await get("/_file/data/t.parquet", {range: value, "accept-encoding": "gzip, br", ...extra});
      return {status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer())};
    };
    // the range unit is case-insensitive (RFC 9110)
    expect((await range("Bytes=0-9")).status).toBe(206);
    const first = await range("bytes=0-99");
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe("bytes 0-99/5000");
    expect(first.headers.get("content-length")).toBe("100");
    expect(first.body.equals(data.subarray(0, 100))).toBe(true);
    const tail = await range("bytes=4900-");
    expect(tail.headers.get("content-range")).toBe("bytes 4900-4999/5000");
    expect(tail.body.equals(data.subarray(4900))).toBe(true);
    const suffix = await range("bytes=-50");
    expect(suffix.headers.get("content-range")).toBe("bytes 4950-4999/5000");
    expect(suffix.body.equals(data.subarray(4950))).toBe(true);
    const beyond = await range("bytes=6000-7000");
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe("bytes */5000");
    const several = await range("bytes=0-9,20-29");
    expect(several.status).toBe(200);
    expect(several.body.equals(data)).toBe(true);
    const whole = await get("/_file/data/t.parquet");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    const tag = whole.headers.get("etag")!;
    expect((await range("bytes=0-9", {"if-range": tag})).status).toBe(206);
    expect((await range("bytes=0-9", {"if-range": '"an-older-version"'})).status).toBe(200);
    // a compressible file is ranged over its uncompressed bytes
    const jsRange = await fetch(new URL("/_file/data/app.js", server.url), {
      headers: {range: "bytes=0-14", "accept-encoding": "gzip, br"},
    });
    expect(jsRange.status).toBe(206);
    expect(jsRange.headers.get("content-encoding")).toBeNull();
    expect(await jsRange.text()).toBe(js.slice(0, 15));
  });
});
