import type {MiddlewareHandler} from "hono";
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
        reject(
          new ApiError(
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
