/**
 * The LLM client: the official `openai` package against any OpenAI-compatible endpoint, with
 * - a timeout per call that aborts the HTTP request (AbortController → the socket is closed),
 * - bounded concurrency (a semaphore; callers wait at most the timeout for a slot),
 * - a circuit breaker: after N consecutive transport failures (timeouts, 429, 5xx, refused
 *   connections) calls are skipped for a cool-down, then one trial call is let through,
 * - no hidden retries (the summary service decides about the one retry).
 */
import OpenAI from "openai";
import type {LlmSettings} from "../settings.ts";
import type {ApiMetrics} from "../prometheus.ts";
import type {ChatMessage} from "./prompt.ts";
import {SUMMARY_JSON_SCHEMA} from "./guardrail.ts";

export type LlmOutcome =
  "ok" | "timeout" | "rate_limited" | "http_error" | "network_error" | "bad_response" | "busy" | "circuit_open";

export type LlmResult =
  {ok: true; content: string; model: string} | {ok: false; outcome: Exclude<LlmOutcome, "ok">; detail: string};

export class Semaphore {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(readonly max: number) {}
  /** Resolves to a release function, or null if no slot frees up within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<(() => void) | null> {
    const release = () => {
      this.active--;
      const next = this.waiters.shift();
      if (next) next();
    };
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        this.active++;
        resolve(release);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
      }, timeoutMs);
      this.waiters.push(grant);
    });
  }
  get inUse(): number {
    return this.active;
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trial = false;
  constructor(
    readonly threshold: number,
    readonly cooldownMs: number,
    private readonly onChange: (open: boolean) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}
  /** May a call go out now? (half-open: one trial call after the cool-down) */
  allow(): boolean {
    if (this.openedAt === null) return true;
    if (this.now() - this.openedAt >= this.cooldownMs && !this.trial) {
      this.trial = true;
      return true;
    }
    return false;
  }
  success(): void {
    this.failures = 0;
    this.trial = false;
    if (this.openedAt !== null) {
      this.openedAt = null;
      this.onChange(false);
    }
  }
  failure(): void {
    this.failures++;
    if (this.trial || this.failures >= this.threshold) {
      const wasOpen = this.openedAt !== null;
      this.openedAt = this.now();
      this.trial = false;
      if (!wasOpen) this.onChange(true);
    }
  }
  get isOpen(): boolean {
    return this.openedAt !== null;
  }
}

export class LlmClient {
  private client: OpenAI;
  private sem: Semaphore;
  readonly breaker: CircuitBreaker;
  constructor(
    readonly settings: LlmSettings,
    private readonly opts: {
      timeoutMs: number;
      maxConcurrency: number;
      circuitFailures: number;
      circuitCooldownMs: number;
    },
    private readonly metrics: ApiMetrics,
  ) {
    this.client = new OpenAI({
      baseURL: settings.baseURL,
      apiKey: settings.apiKey,
      maxRetries: 0,
      timeout: opts.timeoutMs,
    });
    this.sem = new Semaphore(opts.maxConcurrency);
    this.breaker = new CircuitBreaker(opts.circuitFailures, opts.circuitCooldownMs, (open) =>
      metrics.circuitOpen.set({}, open ? 1 : 0),
    );
    metrics.circuitOpen.set({}, 0);
  }

  private record(outcome: LlmOutcome, seconds: number | null): void {
    this.metrics.llmRequests.inc({outcome});
    if (seconds !== null) this.metrics.llmLatency.observe({outcome}, seconds);
  }

  /** One chat completion whose content must match `format` (the summary's JSON schema by default). */
  async complete(
    messages: ChatMessage[],
    signal?: AbortSignal,
    format: {name: string; schema: object} = {name: "account_summary", schema: SUMMARY_JSON_SCHEMA},
  ): Promise<LlmResult> {
    if (!this.breaker.allow()) {
      this.record("circuit_open", null);
      return {ok: false, outcome: "circuit_open", detail: "the LLM circuit breaker is open after repeated failures"};
    }
    const release = await this.sem.acquire(this.opts.timeoutMs);
    if (!release) {
      this.record("busy", null);
      return {
        ok: false,
        outcome: "busy",
        detail: `all ${this.opts.maxConcurrency} LLM slots stayed busy for ${this.opts.timeoutMs} ms`,
      };
    }
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener("abort", onAbort, {once: true});
    const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs);
    const t0 = performance.now();
    let timedOut = false;
    try {
      const res = await this.client.chat.completions.create(
        {
          model: this.settings.model,
          messages,
          temperature: 0,
          max_tokens: 800,
          response_format: {
            type: "json_schema",
            json_schema: {name: format.name, strict: true, schema: format.schema as Record<string, unknown>},
          },
        },
        {signal: ac.signal, timeout: this.opts.timeoutMs},
      );
      const seconds = (performance.now() - t0) / 1000;
      const content = res?.choices?.[0]?.message?.content;
      if (typeof content !== "string" || !content.trim()) {
        this.record("bad_response", seconds);
        this.breaker.success(); // the endpoint is up; the answer is the problem
        return {ok: false, outcome: "bad_response", detail: "the LLM response has no message content"};
      }
      this.record("ok", seconds);
      this.breaker.success();
      return {ok: true, content, model: typeof res.model === "string" ? res.model : this.settings.model};
    } catch (e) {
      const seconds = (performance.now() - t0) / 1000;
      timedOut = ac.signal.aborted && !signal?.aborted;
      let outcome: Exclude<LlmOutcome, "ok">;
      let detail: string;
      if (timedOut || e instanceof OpenAI.APIConnectionTimeoutError) {
        outcome = "timeout";
        detail = `no answer within ${this.opts.timeoutMs} ms (request cancelled)`;
      } else if (e instanceof OpenAI.RateLimitError) {
        outcome = "rate_limited";
        detail = "the LLM endpoint answered 429 (rate limited)";
      } else if (e instanceof OpenAI.APIError && typeof e.status === "number") {
        outcome = "http_error";
        detail = `the LLM endpoint answered HTTP ${e.status}`;
      } else if (e instanceof OpenAI.APIConnectionError || e instanceof OpenAI.APIUserAbortError) {
        outcome = "network_error";
        detail = "could not reach the LLM endpoint";
      } else {
        outcome = "bad_response";
        detail = "the LLM response could not be read";
      }
      this.record(outcome, seconds);
      if (outcome === "bad_response") this.breaker.success();
      else this.breaker.failure();
      return {ok: false, outcome, detail};
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      release();
    }
  }
}
