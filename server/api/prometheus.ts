/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
 * with labels. The server's metrics are declared in `createApiMetrics`.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`)
    .join(",");
}

interface Metric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

export class Counter implements Metric {
  readonly type = "counter" as const;
  private values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${v}`);
  }
}

export class Gauge implements Metric {
  readonly type = "gauge" as const;
  private values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(labels: Labels, v: number): void {
    this.values.set(labelKey(labels), v);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  /** forgets every series: a collector that recomputes the gauge drops the series that no longer exist */
  clear(): void {
    this.values.clear();
  }
  render(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${v}`);
  }
}

export class Histogram implements Metric {
  readonly type = "histogram" as const;
  private series = new Map<string, {buckets: number[]; sum: number; count: number}>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}
  observe(labels: Labels, v: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = {buckets: new Array(this.bounds.length).fill(0), sum: 0, count: 0}));
    for (let i = 0; i < this.bounds.length; i++) if (v <= this.bounds[i]!) s.buckets[i]!++;
    s.sum += v;
    s.count++;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const pre = k ? `${k},` : "";
      this.bounds.forEach((b, i) => out.push(`${this.name}_bucket{${pre}le="${b}"} ${s.buckets[i]}`));
      out.push(`${this.name}_bucket{${pre}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private metrics: Metric[] = [];
  private collectors = new Map<string, () => Promise<void>>();
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  /**
   * `fn` brings gauges computed from elsewhere (the operational store) up to date; GET /metrics
   * awaits every collector before rendering. One per name: an app made again replaces its own.
   */
  collector(name: string, fn: () => Promise<void>): void {
    this.collectors.set(name, fn);
  }
  async collect(): Promise<void> {
    await Promise.all([...this.collectors.values()].map((fn) => fn()));
  }
  render(): string {
    const lines: string[] = [];
    for (const m of this.metrics) {
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return lines.join("\n") + "\n";
  }
}

const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LLM_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

export function createApiMetrics() {
  const registry = new Registry();
  return {
    registry,
    requests: registry.register(
      new Counter("http_requests_total", "HTTP requests by method, route pattern and status code"),
    ),
    latency: registry.register(
      new Histogram(
        "http_request_duration_seconds",
        "HTTP request latency by method and route pattern",
        LATENCY_BOUNDS,
      ),
    ),
    guardrailPassed: registry.register(
      new Counter("guardrail_passed_total", "AI summary answers that passed every guardrail"),
    ),
    guardrailFailed: registry.register(
      new Counter("guardrail_failed_total", "AI summary guardrail failures by reason"),
    ),
    llmLatency: registry.register(
      new Histogram("llm_request_duration_seconds", "LLM call latency by outcome", LLM_BOUNDS),
    ),
    llmRequests: registry.register(
      new Counter(
        "llm_requests_total",
        "LLM calls by outcome (ok, timeout, rate_limited, http_error, network_error, bad_response)",
      ),
    ),
    fallbacks: registry.register(
      new Counter(
        "summary_fallbacks_total",
        "Summaries written by the built-in summariser instead of the LLM, by reason",
      ),
    ),
    summaries: registry.register(
      new Counter("summaries_total", "Summaries served, by generator (llm, builtin) and cache use"),
    ),
    answers: registry.register(
      new Counter(
        "assistant_answers_total",
        "Answers to questions about an account, by generator (llm, builtin) and outcome (answered, refused, fallback)",
      ),
    ),
    circuitOpen: registry.register(new Gauge("llm_circuit_open", "1 while the LLM circuit breaker is open")),
    predictions: registry.register(new Counter("predictions_rows_total", "Rows scored by POST /predictions/churn")),
    reloads: registry.register(new Counter("data_reloads_total", "Warehouse and model reloads by kind and outcome")),
    rateLimited: registry.register(new Counter("rate_limited_total", "Requests refused by the per-key rate limit")),
    eventLoopDelay: registry.register(
      new Gauge("nodejs_eventloop_delay_seconds", "Event-loop delay percentiles since the last reset (p50, p99, max)"),
    ),
    // the assistant's quality over config.assistant.windowDays, read from the store at each scrape
    // (server/api/assistant-metrics.ts)
    assistantSummaries: registry.register(
      new Gauge("assistant_summaries", "AI summaries and answers made in the window, by generator and audience"),
    ),
    assistantGuardrailPass: registry.register(
      new Gauge(
        "assistant_guardrail_pass_ratio",
        "Share of the summaries made in the window that passed every guardrail, by generator and audience",
      ),
    ),
    assistantRatings: registry.register(
      new Gauge(
        "assistant_ratings",
        "CSM ratings of the summaries made in the window, by generator, audience and verdict",
      ),
    ),
    assistantAccuracy: registry.register(
      new Gauge(
        "assistant_accuracy_ratio",
        "Share of the ratings in the window that say accurate, by generator and audience (absent while none is rated)",
      ),
    ),
    assistantAccuracyTarget: registry.register(
      new Gauge("assistant_accuracy_target", "The rollout plan's accuracy target (config.assistant.accuracyTarget)"),
    ),
    assistantGuardrailPassTarget: registry.register(
      new Gauge(
        "assistant_guardrail_pass_target",
        "The guardrail pass-share target (config.assistant.guardrailPassTarget)",
      ),
    ),
    assistantWindowDays: registry.register(
      new Gauge("assistant_quality_window_days", "Days the assistant_* figures cover (config.assistant.windowDays)"),
    ),
    assistantQualityUp: registry.register(
      new Gauge(
        "assistant_quality_up",
        "1 when the assistant_* figures were read from the store at this scrape, 0 when it failed",
      ),
    ),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
