/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with a
 * stable `type`, a human `title` and `detail`, the request id and, for input errors, the
 * `errors` list naming each bad field by its JSON path (e.g. `body.instances[2].features.arr`).
 */
import type {Context} from "hono";

export const PROBLEM_TYPE_BASE = "https://saasguard.dev/problems/";

export interface FieldError {
  /** where the problem is: `body.customer_id`, `path.id`, `query.limit`, `header.authorization` */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new ApiError(400, "bad-request", "Bad request", detail, errors);
export const invalid = (detail: string, errors: FieldError[]) =>
  new ApiError(422, "validation-failed", "Validation failed", detail, errors);
export const notFound = (detail: string, errors?: FieldError[]) =>
  new ApiError(404, "not-found", "Not found", detail, errors);
export const unavailable = (detail: string) =>
  new ApiError(503, "unavailable", "Service unavailable", detail, undefined, {"retry-after": "5"});

export function problemBody(
  c: Context,
  status: number,
  slug: string,
  title: string,
  detail: string,
  errors?: FieldError[],
): Problem {
  const p: Problem = {
    type: PROBLEM_TYPE_BASE + slug,
    title,
    status,
    detail,
    instance: c.req.path.length <= 200 ? c.req.path : c.req.path.slice(0, 200),
  };
  const rid = c.get("requestId" as never) as string | undefined;
  if (rid) p.request_id = rid;
  if (errors?.length) p.errors = errors;
  return p;
}

export function problemResponse(
  c: Context,
  status: number,
  slug: string,
  title: string,
  detail: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
): Response {
  const body = JSON.stringify(problemBody(c, status, slug, title, detail, errors));
  const h = new Headers(c.res?.headers);
  // keep headers set earlier by middleware (request id, CORS, security, rate limits)
  h.set("content-type", "application/problem+json; charset=utf-8");
  h.delete("content-length");
  for (const [k, v] of Object.entries(headers ?? {})) h.set(k, v);
  return new Response(body, {status, headers: h});
}

export function errorResponse(c: Context, e: ApiError): Response {
  return problemResponse(c, e.status, e.slug, e.title, e.detail, e.errors, e.headers);
}

/** JSON path of a zod issue, prefixed with where the value came from. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const p of path)
    s +=
      typeof p === "number"
        ? `[${p}]`
        : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(p))
          ? `.${String(p)}`
          : `[${JSON.stringify(String(p))}]`;
  return s;
}
