import type {ApiConfig} from "../../server/api/settings.ts";
import {startApi, type ApiServer} from "../../server/serve-api.ts";

/**
 * The API server for a test: on 127.0.0.1 on a free port, with no environment read, silent
 * logs and no polling for new builds unless the test asks, plus the test's own settings. Its
 * operational store is a private in-memory SQLite database unless the test names one, so tests
 * sharing the cached warehouse never see each other's CTA changes.
 */
export function startTestApi(settings: Partial<ApiConfig>): Promise<ApiServer> {
  return startApi({
    env: {},
    overrides: {port: 0, host: "127.0.0.1", logLevel: "silent", reloadPollMs: 0, store: "sqlite::memory:", ...settings},
  });
}
