/**
 * Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core
 * (playwright cannot download its own browsers here). Every request the page makes and every
 * console error / page error is recorded, so tests can assert "zero requests off the local
 * server" and "no errors".
 */
import {chromium, type Browser, type BrowserContext, type Page} from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
] as const;

export interface RecordedRequest {
  url: string;
  method: string;
  resourceType: string;
  /** HTTP status, or undefined if the request failed */
  status?: number;
  failure?: string;
  /** bytes received over the wire (compressed body + headers), when known */
  transferBytes?: number;
  contentEncoding?: string;
}

export interface PageRecording {
  page: Page;
  requests: RecordedRequest[];
  consoleErrors: string[];
  /** requests whose URL is not on one of the allowed origins */
  foreignRequests(allowedOrigins: readonly string[]): RecordedRequest[];
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS]});
}

/** Opens a new page in a fresh context that records requests and console errors. */
export async function openRecordedPage(
  browser: Browser,
  options: {viewport?: {width: number; height: number}} = {},
): Promise<PageRecording & {context: BrowserContext}> {
  const context = await browser.newContext({viewport: options.viewport ?? {width: 1280, height: 900}});
  const page = await context.newPage();
  const requests: RecordedRequest[] = [];
  const consoleErrors: string[] = [];
  const byRequest = new Map<object, RecordedRequest>();

  // workers' requests (duckdb-wasm's worker fetching its .wasm) are seen by the context too
  context.on("request", (request) => {
    const r: RecordedRequest = {url: request.url(), method: request.method(), resourceType: request.resourceType()};
    byRequest.set(request, r);
    requests.push(r);
  });
  context.on("requestfinished", (request) => {
    const r = byRequest.get(request);
    if (!r) return;
    void (async () => {
      try {
        const response = await request.response();
        r.status = response?.status();
        r.contentEncoding = (await response?.allHeaders())?.["content-encoding"];
        const sizes = await request.sizes();
        r.transferBytes = sizes.responseBodySize + sizes.responseHeadersSize;
      } catch {
        // page closed before sizes were available
      }
    })();
  });
  context.on("requestfailed", (request) => {
    const r = byRequest.get(request);
    if (r) r.failure = request.failure()?.errorText ?? "failed";
  });
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`console.error: ${message.text()}`);
  });
  page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));

  return {
    context,
    page,
    requests,
    consoleErrors,
    foreignRequests(allowedOrigins) {
      return requests.filter((r) => {
        if (r.url.startsWith("data:") || r.url.startsWith("blob:")) return false;
        try {
          return !allowedOrigins.includes(new URL(r.url).origin);
        } catch {
          return true;
        }
      });
    },
  };
}
