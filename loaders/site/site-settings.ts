/**
 * Settings fixed into the static site when it is built. The summary panel of Customer 360 calls
 * the API named by the page's `?api=` parameter and sends the API key typed into it; a link with
 * `?api=https://collector.example` would hand the key to whoever wrote the link. So the site only
 * ever calls the API origins listed here.
 */

/** The API `npm start` runs beside the site. */
export const DEFAULT_API_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"];

/** Parses SITE_API_ORIGINS (comma-separated origins); throws naming the bad entry. */
export function apiOriginsFrom(value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return DEFAULT_API_ORIGINS;
  return value.split(",").map((entry) => {
    const v = entry.trim();
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      throw new Error(`SITE_API_ORIGINS: "${v}" is not a URL (expected an origin such as https://api.example.com)`);
    }
    if (!/^https?:$/.test(url.protocol) || url.origin !== v.replace(/\/$/, ""))
      throw new Error(
        `SITE_API_ORIGINS: "${v}" is not an origin (scheme, host and port only, e.g. https://api.example.com:8443)`,
      );
    return url.origin;
  });
}

/**
 * Parses SITE_API_URL: where the pages find the API on a static host that does not serve it
 * (`npm start` announces its own). A full http(s) URL, path allowed (https://cs.example.com/api/);
 * undefined when unset. Its origin joins the allowed origins (siteSettings).
 */
export function apiUrlFrom(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`SITE_API_URL: "${value}" is not a URL (expected e.g. https://cs.example.com/api/)`);
  }
  if (!/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password)
    throw new Error(`SITE_API_URL: "${value}" must be a plain http(s) URL, without a query, fragment or credentials`);
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

/** What site_settings.json holds: the origins pages may call, and the build-time API URL if any. */
export function siteSettings(env: Record<string, string | undefined>): {api_origins: string[]; api_url: string | null} {
  const apiUrl = apiUrlFrom(env.SITE_API_URL);
  const origins = apiOriginsFrom(env.SITE_API_ORIGINS);
  if (apiUrl && !origins.includes(new URL(apiUrl).origin)) origins.push(new URL(apiUrl).origin);
  return {api_origins: origins, api_url: apiUrl ?? null};
}
