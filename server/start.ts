/**
 * `npm start`: builds the embedded default (synthetic data, 5,000 customers) when there is no
 * warehouse or site yet, then serves the static site on :3000 (SITE_PORT) and the API on :8000
 * (API_PORT; settings in server/api/settings.ts), and prints both URLs.
 * Rebuild explicitly with `npm run build`: the running API picks the new warehouse up by itself.
 */
import {existsSync} from "node:fs";
import {resolve} from "node:path";
import {build, DEFAULTS} from "../loaders/build.ts";
import {describeApi, startApi} from "./serve-api.ts";
import {serveSite} from "./site.ts";

const dist = resolve(DEFAULTS.distDir);
const warehouse = resolve(DEFAULTS.warehousePath);
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.SITE_PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`SITE_PORT: "${process.env.SITE_PORT}" is not a port number`);
  process.exit(1);
}

try {
  if (!existsSync(warehouse) || !existsSync(resolve(dist, "index.html"))) {
    console.log("No build yet: building the embedded default (synthetic portfolio) — `npm run build` rebuilds later.");
    // the site may call only the API origins it is built for: the API this command is about to start
    const apiPort = process.env.API_PORT ?? process.env.PORT;
    if (apiPort && !process.env.SITE_API_ORIGINS)
      process.env.SITE_API_ORIGINS = `http://127.0.0.1:${apiPort},http://localhost:${apiPort}`;
    await build();
  }
  // the site's pages call the API: under /api on the site's own origin, and on its own port for
  // other clients (the site's origin is allowed for pages opened with ?api=http://127.0.0.1:8000)
  const siteOrigins = [`http://${host}:${port}`, `http://localhost:${port}`, `http://127.0.0.1:${port}`];
  const origins = [process.env.ALLOWED_ORIGINS, ...siteOrigins];
  const api = await startApi({
    env: {
      LOG_LEVEL: "warn",
      ...process.env,
      WAREHOUSE_PATH: process.env.WAREHOUSE_PATH ?? warehouse,
      ALLOWED_ORIGINS: [...new Set(origins.filter(Boolean))].join(","),
    },
  });
  const site = await serveSite({dir: dist, port, host, api: api.app});
  console.log(`SaaSGuard site: ${site.url}  (its API: ${site.url}api/)`);
  for (const line of describeApi(api)) console.log(line);
  const stop = () => void Promise.all([site.close(), api.close()]).then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (e) {
  console.error(`npm start failed: ${(e as Error).message}`);
  process.exit(1);
}
