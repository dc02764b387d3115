/**
 * What every part of the API shares: its dependencies (built once by server/serve-api.ts, or by
 * a test) and the per-request variables middleware set for the handlers after them.
 */
import type {OpenAPIHono} from "@hono/zod-openapi";
import type {OperationalStore} from "../../loaders/store/types.ts";
import type {WarehouseStore} from "./data.ts";
import type {Logger} from "./log.ts";
import type {ApiMetrics} from "./prometheus.ts";
import type {Principal} from "./security.ts";
import type {ModelStore} from "./served-model.ts";
import type {ApiConfig} from "./settings.ts";
import type {SummaryService} from "./summaries/service.ts";

export interface ApiDeps {
  config: ApiConfig;
  warehouse: WarehouseStore;
  models: ModelStore;
  summaries: SummaryService;
  /** CTA states, notes and the audit log (SQLite beside the warehouse, or PostgreSQL) */
  store: OperationalStore;
  metrics: ApiMetrics;
  log: Logger;
  startedAt: number;
}

export interface ApiEnv {
  Variables: {
    /** set by requestId() */
    requestId: string;
    /** set by apiKeyAuth(): who is calling, with which role */
    principal: Principal;
    /** set by requestTimeout(): a signal aborted when the request times out (made on first use) */
    abortSignal: () => AbortSignal;
  };
}

export type ApiApp = OpenAPIHono<ApiEnv>;
