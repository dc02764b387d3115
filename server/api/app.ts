/**
 * The Hono application, in the order a request meets it: the middleware (server/api/middleware/,
 * one factory each), then the route groups (server/api/routes/), then the error answers
 * (errors.ts). `createApiApp` takes its dependencies, so the server, the tests and the benchmark
 * build the same app.
 *
 * Middleware set their headers before `next()`: Hono then merges them into the handler's
 * response, where a header set afterwards would copy the whole Response each time.
 */
import {OpenAPIHono} from "@hono/zod-openapi";
import type {ApiApp, ApiDeps, ApiEnv} from "./env.ts";
import {problemNotFound, problemOnError, validationHook} from "./errors.ts";
import {authorizeCaller, identifyCaller} from "./middleware/api-key-auth.ts";
import {requestBodyLimit} from "./middleware/body-limit.ts";
import {corsAllowList} from "./middleware/cors.ts";
import {loopbackGuard} from "./middleware/loopback-guard.ts";
import {rateLimit} from "./middleware/rate-limit.ts";
import {requestId} from "./middleware/request-id.ts";
import {requestLog} from "./middleware/request-log.ts";
import {securityHeaders} from "./middleware/security-headers.ts";
import {requestTimeout} from "./middleware/timeout.ts";
import {adminRoutes} from "./routes/admin.ts";
import {ctaRoutes} from "./routes/ctas.ts";
import {customerRoutes} from "./routes/customers.ts";
import {docsRoutes} from "./routes/docs.ts";
import {feedbackRoutes} from "./routes/feedback.ts";
import {forecastRoutes} from "./routes/forecast.ts";
import {healthRoutes} from "./routes/health.ts";
import {predictionRoutes} from "./routes/predictions.ts";
import {summaryRoutes} from "./routes/summaries.ts";

export type {ApiApp, ApiDeps};

export function createApiApp(deps: ApiDeps): ApiApp {
  const {config, metrics, log} = deps;
  const app = new OpenAPIHono<ApiEnv>({defaultHook: validationHook});

  app.use(requestId());
  app.use(requestLog({metrics, log}));
  app.use(securityHeaders());
  app.use(loopbackGuard({enabled: config.apiKeys.length === 0, origins: config.allowedOrigins}));
  app.use(corsAllowList({origins: config.allowedOrigins}));
  app.use(identifyCaller({keys: config.apiKeys, proxy: config.identityProxy}));
  app.use(
    rateLimit({
      perMinute: config.rateLimitPerMinute,
      burst: config.rateLimitBurst,
      byKey: config.apiKeys.length > 0,
      metrics,
    }),
  );
  app.use(authorizeCaller({keys: config.apiKeys}));
  // the timeout also covers reading the body: a body trickling in is cut off at REQUEST_TIMEOUT_MS
  app.use(requestTimeout({ms: config.requestTimeoutMs}));
  app.use(requestBodyLimit({maxBytes: config.bodyLimitBytes}));

  healthRoutes(app, deps);
  customerRoutes(app, deps);
  predictionRoutes(app, deps);
  ctaRoutes(app, deps);
  summaryRoutes(app, deps);
  forecastRoutes(app, deps);
  feedbackRoutes(app, deps);
  adminRoutes(app, deps);
  docsRoutes(app, deps);

  app.onError(problemOnError(log));
  app.notFound(problemNotFound);
  return app;
}
