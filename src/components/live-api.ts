/**
 * The SaaSGuard API as the pages reach it, for what changes during the day (CTA states). The
 * site is static and still works without it: pages show the nightly snapshot and say that
 * actions are unavailable.
 *
 * Where the API is, in order:
 *  1. `?api=<url>` on the page, when its origin is one the site was built for (SITE_API_ORIGINS:
 *     an API key typed into a page must never go to whoever wrote a link);
 *  2. the API the site's server announces in the page's `Server-Timing` response header
 *     (`saasguard-api;desc="/api"`): `npm start` mounts the API under /api and says so
 *     (server/site.ts); a reverse proxy serving the site and the API together can send the same.
 *     A page on a plain static host gets no such header;
 *  3. the API URL the site was built with (SITE_API_URL), for a static host that does not serve
 *     the API itself. With none of these a page makes no request at all.
 * The API key, when the API needs one, is kept for this browser tab only (sessionStorage).
 */
export interface LiveApi {
  base: URL;
  /** a fetch that sends the tab's API key and turns problem+json answers into errors */
  call<T>(path: string, init?: {method?: string; body?: unknown}): Promise<T>;
}

export const API_KEY_STORAGE = "saasguard-api-key";

export class ApiCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function client(base: URL): LiveApi {
  return {
    base,
    async call<T>(path: string, init: {method?: string; body?: unknown} = {}): Promise<T> {
      const key = sessionStorage.getItem(API_KEY_STORAGE);
      const res = await fetch(new URL(path.replace(/^\//, ""), base), {
        method: init.method ?? "GET",
        headers: {
          ...(init.body !== undefined ? {"content-type": "application/json"} : {}),
          ...(key ? {authorization: `Bearer ${key}`} : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
      const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
      if (!res.ok) throw new ApiCallError(String(body?.detail ?? body?.title ?? `HTTP ${res.status}`), res.status);
      return body as T;
    },
  };
}

/** The API this page can use, or the reason there is none. */
export async function connectApi(
  apiOrigins: readonly string[],
  builtWith: string | null = null,
): Promise<LiveApi | {unavailable: string}> {
  const param = new URLSearchParams(location.search).get("api");
  const candidates: URL[] = [];
  if (param) {
    let u: URL;
    try {
      u = new URL(param.endsWith("/") ? param : `${param}/`);
    } catch {
      return {unavailable: "the ?api= parameter is not a URL"};
    }
    if (!apiOrigins.includes(u.origin))
      return {unavailable: `this site was built to call only ${apiOrigins.join(", ")}, not ${u.origin}`};
    candidates.push(u);
  }
  const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  const mount = nav?.serverTiming?.find((t) => t.name === "saasguard-api")?.description;
  if (mount?.startsWith("/")) candidates.push(new URL(mount.endsWith("/") ? mount : `${mount}/`, location.origin));
  if (builtWith) candidates.push(new URL(builtWith));
  if (!candidates.length)
    return {
      unavailable:
        "this copy of the site has no SaaSGuard API (open it through `npm start`, or with ?api= and the API's address)",
    };
  for (const base of candidates) {
    try {
      const res = await fetch(new URL("health", base), {signal: AbortSignal.timeout(3000)});
      const body = (await res.json().catch(() => null)) as {status?: string} | null;
      if (res.ok && body && typeof body.status === "string") return client(base);
    } catch {
      // try the next one
    }
  }
  return {
    unavailable: "no SaaSGuard API answers from this page (start it with `npm start`, or open the page with ?api=)",
  };
}
