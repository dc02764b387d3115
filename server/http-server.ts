/**
 * What the two HTTP servers (the site, the API) do alike about slow and malformed clients.
 *
 * Timeouts: Node checks headersTimeout and requestTimeout only every connectionsCheckingInterval
 * (30 s by default), so a client sending one header byte at a time held a connection ~30 s on
 * the API and 74 s on the site. `slowClientOptions` sets the limits and checks every second.
 *
 * Answers for requests Node's HTTP parser refuses before any handler sees them: a malformed
 * request line or header (400), headers too large (431), a request not complete in time (408).
 * Node's default reply is a bare status line — no body, no request id — so a client (or the
 * operator reading its logs) cannot tell what happened or find it in ours. These replies are
 * problem+json like every other error, with an X-Request-Id that the log line carries too.
 */
import {randomUUID} from "node:crypto";
import {STATUS_CODES, type Server} from "node:http";
import type {Duplex} from "node:stream";
import {PROBLEM_TYPE_BASE} from "./api/problem.ts";

const KNOWN: Record<number, {slug: string; detail: string}> = {
  400: {slug: "bad-request", detail: "the request is not valid HTTP/1.1 (request line, header or chunked encoding)"},
  408: {slug: "request-timeout", detail: "the request headers or body did not arrive in time"},
  431: {slug: "headers-too-large", detail: "the request headers are too large"},
};

function statusOf(err: NodeJS.ErrnoException): number {
  if (err.code === "HPE_HEADER_OVERFLOW") return 431;
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}

export function answerClientErrors(
  server: Server,
  log: (fields: {request_id: string; status: number; code: string | undefined}) => void = () => {},
): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    // a reset connection, or one whose response already started, has nobody left to answer
    const inProgress = (socket as {_httpMessage?: {headersSent?: boolean}})._httpMessage?.headersSent;
    if (err.code === "ECONNRESET" || !socket.writable || inProgress) return void socket.destroy();
    const status = statusOf(err);
    const {slug, detail} = KNOWN[status]!;
    const id = randomUUID();
    const body = JSON.stringify({
      type: PROBLEM_TYPE_BASE + slug,
      title: STATUS_CODES[status],
      status,
      detail,
      request_id: id,
    });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
    );
    log({request_id: id, status, code: err.code});
  });
}

export interface SlowClientLimits {
  /** the request line and headers must arrive within this */
  headersTimeoutMs: number;
  /** the whole request (headers and body) must arrive within this */
  requestTimeoutMs: number;
}

/** http.createServer options enforcing `limits` (pass as @hono/node-server's serverOptions). */
export function slowClientOptions(limits: SlowClientLimits) {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs); // Node refuses more
  return {
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, headersTimeout / 2),
  };
}
