/**
 * Structured JSON logs, one object per line on stdout. Callers pass only operational fields
 * (route patterns, status codes, durations, key names, reasons) — never request bodies, customer
 * names, emails, prompts or API keys — so logs carry no PII.
 */
import type {LogLevel} from "./settings.ts";

const ORDER: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40, silent: 99};

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  level: LogLevel;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const emit = (lv: Exclude<LogLevel, "silent">, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lv] < ORDER[level]) return;
    write(JSON.stringify({ts: new Date().toISOString(), level: lv, msg, ...fields}) + "\n");
  };
  return {
    level,
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
