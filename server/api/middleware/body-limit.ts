import type {MiddlewareHandler} from "hono";
import {bodyLimit} from "hono/body-limit";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";

/**
 * Refuses request bodies over `maxBytes` with a 413 problem. Hono's `bodyLimit` counts the
 * streamed bytes, but it reads `c.req.raw.body` first, which makes @hono/node-server build a
 * full fetch Request (web stream, AbortSignal) for every request — GETs included — a large
 * share of a request's CPU. A declared Content-Length is enforced by Node's HTTP parser (the
 * body cannot be longer), so it is checked from the header alone; only bodies without one
 * (chunked) go through Hono's bodyLimit.
 */
export function requestBodyLimit({maxBytes}: {maxBytes: number}): MiddlewareHandler<ApiEnv> {
  const tooLarge = (): never => {
    // the rest of the body is not read: close the connection so it is not reused
    throw new ApiError(
      413,
      "payload-too-large",
      "Payload too large",
      `the request body is larger than ${maxBytes} bytes (BODY_LIMIT_BYTES)`,
      [{field: "body", message: "too large"}],
      {connection: "close"},
    );
  };
  const streamed = bodyLimit({maxSize: maxBytes, onError: tooLarge});
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD") return next(); // a fetch Request of these has no body
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined)
      return parseInt(length, 10) > maxBytes ? tooLarge() : next();
    return streamed(c, next);
  };
}
