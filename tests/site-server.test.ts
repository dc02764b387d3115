/** The static site server: clean URLs, content types, brotli/gzip (precompressed and on the fly), validators, safety. */
import {mkdtemp, mkdir, rm, writeFile} from "node:fs/promises";
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
    expect((await get("/_npm/pkg@1.0.0/dist/x.wasm")).headers.get("content-type")).toBe("application/wasm");
    expect((await get("/_file/data/t.abc123.parquet")).headers.get("content-type")).toBe(
      "application/vnd.apache.parquet",
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
    expect(etag).toMatch(/^W\/".+"$/);
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
