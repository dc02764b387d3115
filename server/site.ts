/**
 * A small static server for the built dashboard site (dist/), used by `npm start` and the tests.
 *
 * - Framework's clean URLs: `/customers` serves `customers.html`, `/` serves `index.html`,
 *   unknown paths get `404.html` (if built) with status 404.
 * - Correct content types, including application/wasm (browsers compile .wasm while it streams
 *   only with that type), application/vnd.apache.parquet, Arrow IPC (the site's `.arrow` and
 *   `.arrows` files are streams) and text/javascript for modules/workers.
 * - Compression: a precompressed sibling written by the site build is sent when the browser
 *   accepts its encoding — `file.br` (brotli) first, then `file.gz`; otherwise compressible
 *   responses are gzipped on the fly. Accept-Encoding is read with its q-values, `*` and
 *   `identity;q=0`, and the ETag always names the representation sent. Brotli matters beyond bytes: Chromium's in-memory HTTP cache
 *   (incognito, and the fresh contexts of the tests and bench) caps the size of one entry —
 *   measured: duckdb-eh.wasm gzipped (7.1 MB) was downloaded again on every visit, brotli'd
 *   (5.3 MB) it is served from the cache. Browsers offer `br` on HTTPS and on localhost.
 * - Caching: content-hashed or versioned assets (`/_npm/`, `/_file/`, `/_import/`,
 *   `/_observablehq/`) are cacheable for a year; HTML is revalidated on every load, and
 *   revalidation is cheap: every response has an ETag and Last-Modified, and a matching
 *   If-None-Match / If-Modified-Since gets 304 Not Modified.
 * - Ranges: a single byte range (`bytes=0-99`, `bytes=100-`, `bytes=-50`) gets 206 with
 *   Content-Range, of the uncompressed file (a range of one compressed representation would not
 *   be a range of another), honouring If-Range; an unsatisfiable one gets 416. Several ranges in
 *   one request get the whole file (RFC 9110 allows it). DuckDB-WASM reads Parquet this way.
 * - Never serves files outside `dir` — symlinks included: the real path of every file sent (the
 *   precompressed sibling and 404.html too) must lie in the real `dir` — nor dot-files or the
 *   `.gz`/`.br` siblings directly.
 * - Slow clients: headers within 10 s and the whole request within 30 s (`slowClientOptions`),
 *   malformed requests answered like the API's (`answerClientErrors`).
 */
import {createReadStream, existsSync, realpathSync} from "node:fs";
import {realpath, stat} from "node:fs/promises";
import type {Server} from "node:http";
import type {AddressInfo} from "node:net";
import path from "node:path";
import {Readable} from "node:stream";
import {serve, type ServerType} from "@hono/node-server";
import {Hono, type Context} from "hono";
import {createGzip} from "node:zlib";
import {answerClientErrors, slowClientOptions, type SlowClientLimits} from "./http-server.ts";

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".parquet": "application/vnd.apache.parquet",
  ".arrow": "application/vnd.apache.arrow.stream",
  ".arrows": "application/vnd.apache.arrow.stream",
  ".csv": "text/csv; charset=utf-8",
  ".tsv": "text/tab-separated-values; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".onnx": "application/octet-stream",
};

/** Types worth gzipping (Parquet is already zstd-compressed; images and woff2 are compressed; Arrow IPC is not). */
const COMPRESSIBLE = /^(text\/|application\/(json|wasm|javascript|vnd\.apache\.arrow\.(file|stream))|image\/svg\+xml)/;

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

export interface SiteServerOptions {
  /** the built site directory (e.g. dist/) */
  dir: string;
  /** 0 picks a free port */
  port?: number;
  host?: string;
  /** how long a client may take to send its request (default: the API's 10 s / 30 s) */
  limits?: SlowClientLimits;
  /** an API to serve under /api on the site's own origin, so pages call it without CORS (npm start) */
  api?: MountedApi;
}

/** What the site needs of the API app to mount it: Hono's fetch. */
export interface MountedApi {
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
}

/** The path under which the site serves a mounted API (the pages try it first: src/components/live-api.ts). */
export const API_MOUNT = "/api";
/** The Server-Timing metric that announces the mounted API to the pages (a reverse proxy may send it too). */
export const API_MOUNT_TIMING = "saasguard-api";

export interface SiteServer {
  /** base URL, e.g. http://127.0.0.1:3000/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function fileAt(p: string): Promise<{size: number; mtime: Date} | undefined> {
  try {
    const s = await stat(p);
    return s.isFile() ? {size: s.size, mtime: s.mtime} : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `file`'s real path (symlinks followed) lies inside `realRoot`. */
async function inside(realRoot: string, file: string): Promise<boolean> {
  try {
    const real = await realpath(file);
    return real.startsWith(realRoot + path.sep);
  } catch {
    return false;
  }
}

/** Maps a URL path to a file in `root`, following Framework's clean-URL conventions. */
async function resolveFile(root: string, realRoot: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.split("/").some((seg) => seg.startsWith("."))) return undefined;
  const abs = path.resolve(root, `.${decoded}`);
  if (abs !== root && !abs.startsWith(root + path.sep)) return undefined;
  const candidates = decoded.endsWith("/")
    ? [path.join(abs, "index.html")]
    : path.extname(decoded)
      ? [abs]
      : [`${abs}.html`, path.join(abs, "index.html"), abs];
  for (const c of candidates)
    if (!PRECOMPRESSED_SUFFIX.test(c) && (await fileAt(c))) return (await inside(realRoot, c)) ? c : undefined;
  return undefined;
}

/** Smallest response gzipped on the fly. */
const ON_THE_FLY_MIN_BYTES = 1024;

/** Precompressed siblings, best first: suffix and Content-Encoding. */
const PRECOMPRESSED = [
  {suffix: ".br", encoding: "br"},
  {suffix: ".gz", encoding: "gzip"},
] as const;
const PRECOMPRESSED_SUFFIX = /\.(br|gz)$/;

/**
 * Whether the request's Accept-Encoding accepts `coding` (RFC 9110 §12.5.3): by name, else by
 * `*`, either with q > 0. No header at all accepts anything, but we only compress on request.
 */
export function acceptsEncoding(header: string | undefined, coding: string): boolean {
  if (header === undefined) return false;
  let star: number | undefined;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const qs = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const q = qs === undefined ? 1 : Number(qs);
    if (name === coding) return q > 0;
    if (name === "*") star = q;
  }
  return star !== undefined && star > 0;
}

/** Strong validator from size and mtime: the build replaces files atomically, never in place. */
function etagOf(info: {size: number; mtime: Date}, encoding: string | undefined): string {
  return `"${info.size.toString(36)}-${Math.floor(info.mtime.getTime()).toString(36)}${encoding ? `-${encoding}` : ""}"`;
}

/** A single byte range of a `size`-byte file: [start, end] inclusive, "unsatisfiable", or null (serve it all). */
export function byteRange(header: string | undefined, size: number): [number, number] | "unsatisfiable" | null {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null; // absent, several ranges, or not bytes: the whole file
  if (m[1] === "") {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? "unsatisfiable" : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  return end < start ? null : [start, end];
}

/** True when the request's validators say the client already holds this version. */
function notModified(c: Context, etag: string, mtime: Date): boolean {
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch !== undefined) return ifNoneMatch.split(",").some((t) => t.trim() === etag || t.trim() === "*");
  const ifModifiedSince = Date.parse(c.req.header("if-modified-since") ?? "");
  return !Number.isNaN(ifModifiedSince) && Math.floor(mtime.getTime() / 1000) * 1000 <= ifModifiedSince;
}

async function sendFile(
  c: Context,
  file: string,
  status: 200 | 404,
  root: string,
  realRoot: string,
): Promise<Response> {
  const type = contentTypeOf(file);
  const rel = path.relative(root, file).split(path.sep).join("/");
  // hashed or versioned paths never change; a .wasm there can (its path carries the package's
  // version, not the build's: prepare-framework trims duckdb-wasm's modules to the exports of the
  // worker glue, and a new glue must not meet a module cached for an older one), so it is revalidated
  const immutable = /^_(npm|file|import|observablehq|node|jsr|duckdb)\//.test(rel) && !rel.endsWith(".wasm");
  const headers: Record<string, string> = {
    "content-type": type,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  };
  const identity = (await fileAt(file))!;
  const identityTag = etagOf(identity, undefined);
  // A range is served of the uncompressed file, and only while it is the version the client
  // ranged over (If-Range names its ETag or date); otherwise the whole representation.
  const ifRange = c.req.header("if-range");
  const rangeValid =
    status === 200 &&
    (ifRange === undefined ||
      ifRange === identityTag ||
      Date.parse(ifRange) >= Math.floor(identity.mtime.getTime() / 1000) * 1000);
  const range = rangeValid ? byteRange(c.req.header("range"), identity.size) : null;

  let body = file;
  let encoding: string | undefined;
  const compressible = COMPRESSIBLE.test(type);
  const accept = c.req.header("accept-encoding");
  if (compressible) {
    headers.vary = "Accept-Encoding";
    if (range === null)
      for (const {suffix, encoding: e} of PRECOMPRESSED) {
        // the sibling is a file of its own: a symlink out of the folder would leak its target's bytes
        const sibling = `${file}${suffix}`;
        if (acceptsEncoding(accept, e) && (await fileAt(sibling)) && (await inside(realRoot, sibling))) {
          body = sibling;
          encoding = e;
          break;
        }
      }
  }
  const info = body === file ? identity : (await fileAt(body))!;
  const onTheFly =
    range === null && compressible && !encoding && acceptsEncoding(accept, "gzip") && info.size >= ON_THE_FLY_MIN_BYTES;
  if (onTheFly) encoding = "gzip";
  if (encoding) headers["content-encoding"] = encoding;
  else headers["accept-ranges"] = "bytes";
  // each representation has its own validator
  headers.etag = etagOf(info, encoding);
  headers["last-modified"] = info.mtime.toUTCString();
  if (status === 200 && notModified(c, headers.etag, info.mtime)) {
    delete headers["content-type"];
    return new Response(null, {status: 304, headers});
  }
  if (range === "unsatisfiable") {
    headers["content-range"] = `bytes */${identity.size}`;
    return new Response(null, {status: 416, headers});
  }
  const [start, end] = range ?? [0, info.size - 1];
  if (range) headers["content-range"] = `bytes ${start}-${end}/${identity.size}`;
  if (!onTheFly) headers["content-length"] = String(Math.max(0, end - start + 1));
  const code = range ? 206 : status;
  if (c.req.method === "HEAD") return new Response(null, {status: code, headers});
  if (info.size === 0) return new Response(null, {status: code, headers});
  const stream = createReadStream(body, {start, end});
  const web = Readable.toWeb(onTheFly ? stream.pipe(createGzip()) : stream) as ReadableStream<Uint8Array>;
  return new Response(web, {status: code, headers});
}

/** The Hono app serving `dir` (exported for tests and for mounting in a bigger app). */
export function createSiteApp(dir: string, api?: MountedApi): Hono {
  const root = path.resolve(dir);
  const realRoot = realpathSync(root);
  const app = new Hono();
  if (api) {
    // tells the pages where the API is (src/components/live-api.ts reads it from the navigation's
    // Server-Timing), so a page on a plain static host never probes for one
    app.use(async (c, next) => {
      await next();
      // after the handler: the files are sent as Responses of their own (sendFile)
      c.res.headers.set("server-timing", `${API_MOUNT_TIMING};desc="${API_MOUNT}"`);
    });
    app.all(`${API_MOUNT}/*`, (c) => {
      // the API sees its own paths; the node-server env passes on the peer address (identity proxy)
      const url = new URL(c.req.url);
      url.pathname = url.pathname.slice(API_MOUNT.length) || "/";
      const raw = c.req.raw;
      const init: RequestInit & {duplex?: "half"} = {method: raw.method, headers: raw.headers, signal: raw.signal};
      if (raw.body) Object.assign(init, {body: raw.body, duplex: "half"});
      return api.fetch(new Request(url, init), c.env);
    });
  }
  app.on(["GET", "HEAD"], "*", async (c) => {
    const file = await resolveFile(root, realRoot, c.req.path);
    if (file) return sendFile(c, file, 200, root, realRoot);
    const notFound = path.join(root, "404.html");
    if ((await fileAt(notFound)) && (await inside(realRoot, notFound)))
      return sendFile(c, notFound, 404, root, realRoot);
    return c.text("Not found", 404);
  });
  app.all("*", (c) => c.text("Method not allowed", 405, {allow: "GET, HEAD"}));
  return app;
}

/** Serves the built site; resolves once listening. */
export async function serveSite(options: SiteServerOptions): Promise<SiteServer> {
  const {dir, port = 3000, host = "127.0.0.1", limits = {headersTimeoutMs: 10_000, requestTimeoutMs: 30_000}} = options;
  if (!existsSync(path.join(dir, "index.html")))
    throw new Error(`serveSite: ${path.resolve(dir)} has no index.html — build the site first (npm run build)`);
  const app = createSiteApp(dir, options.api);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({fetch: app.fetch, port, hostname: host, serverOptions: slowClientOptions(limits)}, () =>
      resolve(s),
    );
    s.once("error", reject);
  });
  answerClientErrors(server as Server);
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}/`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        const s = server as ServerType & {closeAllConnections?: () => void};
        server.close((error) => (error ? reject(error) : resolve()));
        s.closeAllConnections?.();
      }),
  };
}
