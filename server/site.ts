/**
 * A small static server for the built dashboard site (dist/), used by `npm start` and the tests.
 *
 * - Framework's clean URLs: `/customers` serves `customers.html`, `/` serves `index.html`,
 *   unknown paths get `404.html` (if built) with status 404.
 * - Correct content types, including application/wasm (browsers compile .wasm while it streams
 *   only with that type), application/vnd.apache.parquet, Arrow IPC (`.arrows` is the stream
 *   format) and text/javascript for modules/workers.
 * - Compression: a precompressed sibling written by the site build is sent when the browser
 *   accepts its encoding — `file.br` (brotli) first, then `file.gz`; otherwise compressible
 *   responses are gzipped on the fly. Brotli matters beyond bytes: Chromium's in-memory HTTP cache
 *   (incognito, and the fresh contexts of the tests and bench) caps the size of one entry —
 *   measured: duckdb-eh.wasm gzipped (7.1 MB) was downloaded again on every visit, brotli'd
 *   (5.3 MB) it is served from the cache. Browsers offer `br` on HTTPS and on localhost.
 * - Caching: content-hashed or versioned assets (`/_npm/`, `/_file/`, `/_import/`,
 *   `/_observablehq/`) are cacheable for a year; HTML is revalidated on every load, and
 *   revalidation is cheap: every response has an ETag and Last-Modified, and a matching
 *   If-None-Match / If-Modified-Since gets 304 Not Modified.
 * - Never serves files outside `dir`, dot-files, or the `.gz`/`.br` siblings directly.
 */
import {createReadStream, existsSync} from "node:fs";
import {stat} from "node:fs/promises";
import type {AddressInfo} from "node:net";
import path from "node:path";
import {Readable} from "node:stream";
import {serve, type ServerType} from "@hono/node-server";
import {Hono, type Context} from "hono";
import {compress} from "hono/compress";

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".parquet": "application/vnd.apache.parquet",
  ".arrow": "application/vnd.apache.arrow.file",
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
}

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

/** Maps a URL path to a file in `root`, following Framework's clean-URL conventions. */
async function resolveFile(root: string, urlPath: string): Promise<string | undefined> {
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
  for (const c of candidates) if (!PRECOMPRESSED_SUFFIX.test(c) && (await fileAt(c))) return c;
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

/** Content codings the request accepts (q=0 excluded). */
function acceptedEncodings(c: Context): Set<string> {
  const accepted = new Set<string>();
  for (const part of (c.req.header("accept-encoding") ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name && (q === undefined || Number(q) > 0)) accepted.add(name);
  }
  return accepted;
}

/** Weak validator from size and mtime (strong enough for files replaced atomically by the build). */
function etagOf(info: {size: number; mtime: Date}, encoding: string | undefined): string {
  return `W/"${info.size.toString(36)}-${Math.floor(info.mtime.getTime()).toString(36)}${encoding ? `-${encoding}` : ""}"`;
}

/** True when the request's validators say the client already holds this version. */
function notModified(c: Context, etag: string, mtime: Date): boolean {
  const ifNoneMatch = c.req.header("if-none-match");
  if (ifNoneMatch !== undefined) return ifNoneMatch.split(",").some((t) => t.trim() === etag || t.trim() === "*");
  const ifModifiedSince = Date.parse(c.req.header("if-modified-since") ?? "");
  return !Number.isNaN(ifModifiedSince) && Math.floor(mtime.getTime() / 1000) * 1000 <= ifModifiedSince;
}

async function sendFile(c: Context, file: string, status: 200 | 404, root: string): Promise<Response> {
  const type = contentTypeOf(file);
  const rel = path.relative(root, file).split(path.sep).join("/");
  const immutable = /^_(npm|file|import|observablehq|node|jsr|duckdb)\//.test(rel);
  const headers: Record<string, string> = {
    "content-type": type,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  };
  let body = file;
  const compressible = COMPRESSIBLE.test(type);
  const accepted = acceptedEncodings(c);
  if (compressible) {
    headers.vary = "Accept-Encoding";
    for (const {suffix, encoding} of PRECOMPRESSED) {
      if (accepted.has(encoding) && (await fileAt(`${file}${suffix}`))) {
        body = `${file}${suffix}`;
        headers["content-encoding"] = encoding;
        break;
      }
    }
  }
  const info = (await fileAt(body))!;
  // each representation has its own validator (the compress middleware below gzips the rest)
  const onTheFly =
    compressible && !headers["content-encoding"] && accepted.has("gzip") && info.size >= ON_THE_FLY_MIN_BYTES;
  headers.etag = etagOf(info, headers["content-encoding"] ?? (onTheFly ? "gzip" : undefined));
  headers["last-modified"] = info.mtime.toUTCString();
  if (status === 200 && notModified(c, headers.etag, info.mtime)) {
    delete headers["content-type"];
    return new Response(null, {status: 304, headers});
  }
  headers["content-length"] = String(info.size);
  if (c.req.method === "HEAD") return new Response(null, {status, headers});
  const stream = Readable.toWeb(createReadStream(body)) as ReadableStream<Uint8Array>;
  return new Response(stream, {status, headers});
}

/** The Hono app serving `dir` (exported for tests and for mounting in a bigger app). */
export function createSiteApp(dir: string): Hono {
  const root = path.resolve(dir);
  const app = new Hono();
  app.use("*", compress({encoding: "gzip", contentTypeFilter: COMPRESSIBLE, threshold: ON_THE_FLY_MIN_BYTES}));
  app.on(["GET", "HEAD"], "*", async (c) => {
    const file = await resolveFile(root, c.req.path);
    if (file) return sendFile(c, file, 200, root);
    const notFound = path.join(root, "404.html");
    if (existsSync(notFound)) return sendFile(c, notFound, 404, root);
    return c.text("Not found", 404);
  });
  app.all("*", (c) => c.text("Method not allowed", 405, {allow: "GET, HEAD"}));
  return app;
}

/** Serves the built site; resolves once listening. */
export async function serveSite({dir, port = 3000, host = "127.0.0.1"}: SiteServerOptions): Promise<SiteServer> {
  if (!existsSync(path.join(dir, "index.html")))
    throw new Error(`serveSite: ${path.resolve(dir)} has no index.html — build the site first (npm run build)`);
  const app = createSiteApp(dir);
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({fetch: app.fetch, port, hostname: host}, () => resolve(s));
    s.once("error", reject);
  });
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
