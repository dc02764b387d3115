import type {MiddlewareHandler} from "hono";
import {randomUUID} from "node:crypto";
import type {ApiEnv} from "../env.ts";

/** Ids a caller may send to trace its request through our logs (a CRM's own ids carry '.' and ':'). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id: the caller's `X-Request-Id` when it is a sensible one, else a new
 * UUID; echoed in the response. Hono's `hono/request-id` accepts only `[\w-=]` (not the '.' and
 * ':' of the ids our clients send) and no minimum length, hence this small one.
 */
export function requestId(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set("requestId", id);
    c.header("x-request-id", id);
    await next();
  };
}
