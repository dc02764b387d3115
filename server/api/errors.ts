/**
 * How the API turns every failure into an `application/problem+json` answer: input that fails a
 * route's zod schema (422 naming each bad field), errors thrown by handlers and middleware, and
 * unknown endpoints.
 */
import type {Hook} from "@hono/zod-openapi";
import type {Context, ErrorHandler, NotFoundHandler} from "hono";
import {HTTPException} from "hono/http-exception";
import type {ApiEnv} from "./env.ts";
import type {Logger} from "./log.ts";
import {ApiError, errorResponse, fieldPath, invalid, problemResponse, type FieldError} from "./problem.ts";

/** Field errors a 422 lists at most. */
export const MAX_FIELD_ERRORS = 100;

/** The routes' validation hook: every zod issue becomes a field error (`body.features.arr`, `path.id`). */
export const validationHook: Hook<unknown, ApiEnv, string, unknown> = (result) => {
  if (result.success) return undefined;
  const where = result.target === "json" ? "body" : result.target === "param" ? "path" : result.target;
  const issues = result.error.issues;
  // an answer never grows with the input: the first MAX_FIELD_ERRORS are listed, the detail counts all
  const errors: FieldError[] = issues
    .slice(0, MAX_FIELD_ERRORS)
    .map((i) => ({field: fieldPath(where, i.path), message: i.message}));
  throw invalid(
    `${issues.length} input error${issues.length === 1 ? "" : "s"}${issues.length > errors.length ? ` (the first ${errors.length} are listed)` : ""}: ${errors
      .slice(0, 3)
      .map((e) => `${e.field}: ${e.message}`)
      .join("; ")}`,
    errors,
  );
};

/** Known errors keep their status; anything else is a 500 that the request id ties to the log. */
export function problemOnError(log: Logger): ErrorHandler<ApiEnv> {
  return (err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    if (err instanceof HTTPException) return httpProblem(c, err.status, err.message);
    log.error("unhandled error", {
      request_id: c.get("requestId"),
      error: err.message?.split("\n")[0]?.slice(0, 300),
    });
    return problemResponse(
      c,
      500,
      "internal",
      "Internal server error",
      "an unexpected error occurred; the request id identifies it in the server log",
    );
  };
}

/** Hono's own HTTP errors (a body that is not JSON, the wrong media type) as problems. */
function httpProblem(c: Context, status: number, message: string): Response {
  if (status === 400)
    return problemResponse(c, 400, "malformed-json", "Malformed JSON", "the request body is not valid JSON", [
      {field: "body", message: "not valid JSON"},
    ]);
  if (status === 415)
    return problemResponse(
      c,
      415,
      "unsupported-media-type",
      "Unsupported media type",
      "send the body as application/json",
      [{field: "header.content-type", message: "must be application/json"}],
    );
  return problemResponse(c, status, "http-error", message || "Error", message || "request failed");
}

export const problemNotFound: NotFoundHandler<ApiEnv> = (c) =>
  problemResponse(
    c,
    404,
    "not-found",
    "Not found",
    `no endpoint ${c.req.method} ${c.req.path.slice(0, 200)} (see /docs)`,
    [{field: "path", message: "unknown endpoint"}],
  );
