import type {MiddlewareHandler} from "hono";
import type {IncomingMessage} from "node:http";
import type {ApiEnv} from "../env.ts";
import {ApiError} from "../problem.ts";

/**
 * Answers 503 when a request takes longer than `ms`, and aborts the signal the handler asked for
 * (`c.get("abortSignal")()`), so an LLM call in flight is cancelled, not left running. Hono's
 * `hono/timeout` races the handler the same way but gives it no signal to stop its work.
 */
export function requestTimeout({ms}: {ms: number}): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    // an AbortSignal costs a few µs to make: only handlers that do slow work ask for one
    let ac: AbortController | null = null;
    c.set("abortSignal", () => (ac ??= new AbortController()).signal);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac?.abort();
        // a body still arriving (a chunk a second) is the client's delay, not ours: 408, and the
        // connection is closed since the rest of that body will not be read
        const incoming = (c.env as {incoming?: IncomingMessage} | undefined)?.incoming;
        reject(
          incoming && !incoming.complete
            ? new ApiError(
                408,
                "request-timeout",
                "Request timeout",
                `the request body did not arrive within ${ms} ms (REQUEST_TIMEOUT_MS)`,
                [{field: "body", message: "incomplete"}],
                {connection: "close"},
              )
            : new ApiError(
                503,
                "timeout",
                "Request timed out",
                `the request took longer than ${ms} ms (REQUEST_TIMEOUT_MS) and was cancelled`,
                undefined,
                {"retry-after": "5"},
              ),
        );
      }, ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
