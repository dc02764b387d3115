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
