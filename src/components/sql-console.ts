/**
 * "Try a query": SQL over the published tables in the page, for an analyst checking a query
 * before putting it in a report's ```sql block.
 *
 * The tables are the ones the query names, picked when it runs — which a page's `sql:` front
 * matter, fixed when the page is written, cannot express; so this uses `loadTables` (db.ts),
 * imported only when the first query runs: the page itself never downloads DuckDB-WASM.
 */
import {html} from "npm:htl";
import type {DataFile} from "./ipc.js";
import type {Tables} from "./db.js";
import {formatInt} from "./format.js";

/** Rows shown under the console (the count says how many there were). */
const SHOWN_ROWS = 100;

/** The published tables `query` names (whole words, case-insensitive), in `names` order. */
export function tablesNamed(query: string, names: readonly string[]): string[] {
  const words = new Set(query.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return names.filter((n) => words.has(n.toLowerCase()));
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date)
    return value.toISOString().slice(0, value.getUTCHours() || value.getUTCMinutes() ? 16 : 10);
  if (typeof value === "object") return JSON.stringify(value);
  // binary floating point: 6877970.060000003 is 6877970.06
  if (typeof value === "number" && !Number.isInteger(value)) return String(Number(value.toPrecision(12)));
  return String(value);
}

/**
 * The console: a query box, Run (or Ctrl/⌘+Enter), and the result as a table. The result's
 * `data-state` is idle, running, done or error, for readers and tests.
 */
export function sqlConsole(files: Readonly<Record<string, DataFile>>, initial: string): HTMLElement {
  const names = Object.keys(files);
  const input =
    html`<textarea id="sg-sql-input" rows="4" spellcheck="false" aria-label="SQL query">${initial}</textarea>` as HTMLTextAreaElement;
  const run = html`<button id="sg-sql-run" type="button">Run</button>` as HTMLButtonElement;
  const output =
    html`<div id="sg-sql-output" data-state="idle"><p class="sg-meta">Tables: ${names.join(", ")}.</p></div>` as HTMLElement;
  // one database per set of tables; a query naming a table not loaded yet starts a new one
  let loaded: {key: string; db: Promise<Tables>} | null = null;

  async function database(tables: string[]): Promise<Tables> {
    const key = tables.join(",");
    if (loaded?.key !== key) {
      const previous = loaded?.db;
      const {loadTables} = await import("./db.js");
      loaded = {key, db: loadTables(Object.fromEntries(tables.map((t) => [t, files[t]!])))};
      void previous?.then((db) => db.client._db.terminate()).catch(() => {});
    }
    return loaded.db;
  }

  async function execute(): Promise<void> {
    const query = input.value.trim();
    const tables = tablesNamed(query, names);
    output.dataset.state = "running";
    output.replaceChildren(html`<p class="sg-meta">Running…</p>` as HTMLElement);
    const started = performance.now();
    try {
      const rows = await (await database(tables)).query(query);
      const columns = rows.length ? Object.keys(rows[0]!) : [];
      const ms = Math.round(performance.now() - started);
      output.replaceChildren(
        html`<p class="sg-meta" data-rows=${rows.length}>${formatInt(rows.length)} ${rows.length === 1 ? "row" : "rows"} in ${formatInt(ms)} ms${rows.length > SHOWN_ROWS ? ` — the first ${SHOWN_ROWS} shown` : ""}.</p>` as HTMLElement,
        html`<div class="sg-table-scroll"><table class="sg-table"><thead><tr>${columns.map((c) => html`<th>${c}</th>`)}</tr></thead><tbody>${rows
          .slice(0, SHOWN_ROWS)
          .map(
            (r) => html`<tr>${columns.map((c) => html`<td>${cell(r[c])}</td>`)}</tr>`,
          )}</tbody></table></div>` as HTMLElement,
      );
      output.dataset.state = "done";
    } catch (error) {
      output.replaceChildren(
        html`<p class="sg-error" role="alert">${error instanceof Error ? error.message : String(error)}</p>` as HTMLElement,
      );
      output.dataset.state = "error";
    }
  }

  run.onclick = () => void execute();
  input.onkeydown = (event: KeyboardEvent) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void execute();
    }
  };
  return html`<div class="sg-sql-console">${input}<div>${run}</div>${output}</div>` as HTMLElement;
}
