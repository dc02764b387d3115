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
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
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
    circuitOpen: registry.register(new Gauge("llm_circuit_open", "1 while the LLM circuit breaker is open")),
    predictions: registry.register(new Counter("predictions_rows_total", "Rows scored by POST /predictions/churn")),
    reloads: registry.register(new Counter("data_reloads_total", "Warehouse and model reloads by kind and outcome")),
    rateLimited: registry.register(new Counter("rate_limited_total", "Requests refused by the per-key rate limit")),
    eventLoopDelay: registry.register(
      new Gauge("nodejs_eventloop_delay_seconds", "Event-loop delay percentiles since the last reset (p50, p99, max)"),
    ),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
