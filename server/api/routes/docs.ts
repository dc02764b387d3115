/**
 * GET /openapi.json, the OpenAPI 3.1 document made from the routes' zod schemas, and
 * GET /docs: Swagger UI served entirely from this server — the assets come from the
 * `swagger-ui-dist` package in node_modules (no CDN), the page has no inline script (the CSP is
 * `script-src 'self'`) and the online spec validator is switched off, so the page makes no
 * request to any other host.
 */
import type {Handler} from "hono";
import {readFileSync} from "node:fs";
import {createRequire} from "node:module";
import {dirname, join} from "node:path";
import type {ApiApp, ApiDeps, ApiEnv} from "../env.ts";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SaaSGuard API docs</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false
  });
});
`;

export function swaggerDistDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve("swagger-ui-dist/package.json"));
}

export function docsRoutes(app: ApiApp, {config}: ApiDeps): void {
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "SaaSGuard API",
      version: "1.0.0",
      description:
        "Customer health, churn predictions and guardrailed AI account summaries. Authenticate with `Authorization: Bearer <key>` (or `X-API-Key`). Errors are `application/problem+json` naming the bad field.",
    },
    security: config.apiKeys.length ? [{bearer: []}] : [],
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "an API key made with `npm run api:key`",
  });

  const dir = swaggerDistDir();
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const name of Object.keys(ASSETS)) files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  // the page and its script are revalidated on every load, so a new server's docs show at once
  const text =
    (body: string, type: string): Handler<ApiEnv> =>
    (c) =>
      c.body(body, 200, {"content-type": type, "cache-control": "no-cache"});
  app.get("/docs", text(PAGE, "text/html; charset=utf-8"));
  app.get("/docs/init.js", text(INIT, "text/javascript; charset=utf-8"));
  app.get("/docs/:asset", (c) => {
    const name = c.req.param("asset");
    const data = files.get(name);
    if (!data) return c.notFound();
    return c.body(data, 200, {
      "content-type": ASSETS[name]!,
      "cache-control": "public, max-age=86400",
    });
  });
}
