/**
 * The Data dictionary page: data/data_dictionary.json (loaders/site/data-dictionary.ts) as a
 * guide for analysts writing reports — how to name a table in a report, a column finder, and per
 * published table a card with what a row is, its size, freshness, the pages using it and its
 * columns (name, DuckDB type, meaning). Cards carry `data-table`, column rows `data-column`, for
 * readers and tests.
 */
import {html} from "npm:htl";
import {formatDate, formatDateTime, formatInt} from "./format.js";

export interface PageRef {
  /** the page's URL path: "/" for the home page, "/reports/cohort-retention" */
  path: string;
  title: string;
}

export interface DictionaryColumn {
  name: string;
  /** DuckDB's type of the published column (VARCHAR, DOUBLE, DATE, BOOLEAN, STRUCT(…)[] …) */
  type: string;
  meaning: string;
  /** what the pages call it, when src/rules/labels.ts names it ("Days to renewal") */
  label?: string;
}

export interface DictionaryTable {
  name: string;
  /** the published file, relative to src/ */
  file: string;
  about: string;
  /** the warehouse relations it is read from */
  sources: string[];
  rows: number;
  columns: DictionaryColumn[];
  pages: PageRef[];
  /** the latest value of the table's date column (SiteTable.freshness), when it has one */
  latest: {column: string; value: string | null} | null;
}

export interface DictionaryDocument {
  name: string;
  file: string;
  description: string;
  pages: PageRef[];
}

/** data/data_dictionary.json, as loaders/site/data-dictionary.ts generates it. */
export interface DataDictionary {
  build: {built_at: string; as_of: string; source: string; customers: number};
  tables: DictionaryTable[];
  documents: DictionaryDocument[];
}

/** Where reports live (src/reports/, `npm run report:new`): their `sql:` paths start with ../ */
const FROM_REPORT = "../";

/** A report's front-matter line naming `table`. */
export const sqlLine = (table: Pick<DictionaryTable, "name" | "file">): string =>
  `  ${table.name}: ${FROM_REPORT}${table.file}`;

/** The starting point of a report over `table`: front matter and a ```sql block. */
export function reportSnippet(table: Pick<DictionaryTable, "name" | "file">): string {
  const fence = "```";
  return `---\ntitle: My report\nsql:\n${sqlLine(table)}\n---\n\n${fence}sql id=rows\nSELECT *\nFROM ${table.name}\nLIMIT 10\n${fence}`;
}

/** Links to the pages, relative to this page (it sits at the site's root), so a site under a sub-path works. */
function pageLinks(pages: readonly PageRef[], none: string): Node {
  if (!pages.length) return html`<span class="sg-muted">${none}</span>` as Node;
  return html`${pages.map((p, i) => html`${i ? ", " : ""}<a href=${`.${p.path}`} data-page=${p.path}>${p.title}</a>`)}` as Node;
}

/** A button that copies `text` (falls back to selecting `target` when the clipboard is refused). */
function copyButton(text: string, target: () => HTMLElement, label: string): HTMLButtonElement {
  const button =
    html`<button type="button" class="sg-dict-copy" aria-label=${label}>Copy</button>` as HTMLButtonElement;
  button.onclick = async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(target());
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => (button.textContent = "Copy"), 2000);
  };
  return button;
}

function howTo(first: DictionaryTable): HTMLElement {
  const snippet = reportSnippet(first);
  const code = html`<pre><code>${snippet}</code></pre>` as HTMLElement;
  return html`<div class="card sg-dict-howto" id="dictionary-howto">
    <h2>Use a table in a report</h2>
    <p>Start a report with <code>npm run report:new -- "My report"</code> (it lands in <code>src/reports/</code> and in the sidebar).
    Name each table it reads under <code>sql:</code> in its front matter, then query it in a <code>${"```sql"}</code> block —
    DuckDB runs it in the browser, over the same file the dashboards load. Every card below has its own <code>sql:</code> line to copy.</p>
    <div class="sg-dict-snippet">${code}${copyButton(snippet, () => code, "Copy the report snippet")}</div>
    <p class="sg-meta">From a page directly in <code>src/</code> (like the report template), write <code>./data/…</code> instead of <code>../data/…</code>.
    Amounts are in USD, shares are 0–1 (0.12 = 12%), dates are the data's as-of date or before unless a column says otherwise.</p>
  </div>` as HTMLElement;
}

function tableCard(t: DictionaryTable, build: DataDictionary["build"]): HTMLElement {
  const line = sqlLine(t);
  const code = html`<code class="sg-dict-line">${line}</code>` as HTMLElement;
  return html`<section class="card sg-dict-table" id=${`table-${t.name}`} data-table=${t.name} data-rows=${t.rows} data-columns=${t.columns.length}>
    <h2><code>${t.name}</code></h2>
    <p class="sg-dict-about">${t.about}</p>
    <dl class="sg-dict-facts">
      <dt>Rows</dt><dd data-fact="rows">${formatInt(t.rows)}</dd>
      <dt>Fresh as of</dt><dd data-fact="freshness">${formatDate(build.as_of)} <span class="sg-muted">(built ${formatDateTime(build.built_at)})</span>${
        t.latest
          ? html` · newest <code>${t.latest.column}</code>: ${t.latest.value ? formatDate(t.latest.value) : "none"}`
          : ""
      }</dd>
      <dt>Used by</dt><dd data-fact="pages">${pageLinks(t.pages, "no page yet — a report of yours could be the first")}</dd>
      <dt>From</dt><dd data-fact="sources">${t.sources.map((s, i) => html`${i ? ", " : ""}<code>${s}</code>`)} <span class="sg-muted">· file <code>${t.file}</code></span></dd>
      <dt>In a report</dt><dd class="sg-dict-code">${code}${copyButton(line, () => code, `Copy the sql: line of ${t.name}`)}</dd>
    </dl>
    <div class="sg-dict-scroll sg-dict-columns"><table class="sg-table">
      <thead><tr><th>Column</th><th>Type</th><th>Meaning</th></tr></thead>
      <tbody>${t.columns.map(
        (c) => html`<tr data-column=${c.name}>
          <td><code>${c.name}</code></td>
          <td class=${c.type.length > 16 ? "sg-dict-type sg-dict-long" : "sg-dict-type"}><code>${c.type}</code></td>
          <td>${c.meaning}${c.label ? html` <span class="sg-muted">Pages call it “${c.label}”.</span>` : ""}</td>
        </tr>`,
      )}</tbody>
    </table></div>
  </section>` as HTMLElement;
}

function documentsCard(d: DataDictionary): HTMLElement {
  return html`<section class="card sg-dict-documents" id="dictionary-documents">
    <h2>Other published files</h2>
    <p class="sg-meta">Shaped for one page each (pre-aggregated JSON, the model, the Customer 360 archive). Reports should read the tables above, which DuckDB can query.</p>
    <div class="sg-dict-scroll"><table class="sg-table">
      <thead><tr><th>File</th><th>What is in it</th><th>Used by</th></tr></thead>
      <tbody>${d.documents.map(
        (x) =>
          html`<tr data-document=${x.name}><td><code>${x.file}</code></td><td>${x.description}</td><td>${pageLinks(x.pages, "—")}</td></tr>`,
      )}</tbody>
    </table></div>
  </section>` as HTMLElement;
}

/** Filters the column rows (and the cards) to those whose name, type or meaning contains the query. */
function columnFinder(root: () => HTMLElement): HTMLElement {
  const input =
    html`<input type="search" id="dictionary-find" placeholder="Find a column: arr, renewal, churn …" aria-label="Find a column" autocomplete="off">` as HTMLInputElement;
  const status = html`<span class="sg-meta" id="dictionary-find-status" role="status"></span>` as HTMLElement;
  input.oninput = () => {
    const q = input.value.trim().toLowerCase();
    let found = 0;
    for (const card of root().querySelectorAll<HTMLElement>(".sg-dict-table")) {
      let shown = 0;
      for (const row of card.querySelectorAll<HTMLElement>("tr[data-column]")) {
        const hit = !q || (row.textContent ?? "").toLowerCase().includes(q);
        row.hidden = !hit;
        if (hit) shown++;
      }
      card.hidden = shown === 0;
      found += q ? shown : 0;
    }
    status.textContent = q ? `${formatInt(found)} column${found === 1 ? "" : "s"} match` : "";
  };
  return html`<div class="sg-dict-find">${input} ${status}</div>` as HTMLElement;
}

function tableIndex(d: DataDictionary): HTMLElement {
  return html`<div class="sg-dict-scroll"><table class="sg-table sg-dict-index" id="dictionary-index">
    <thead><tr><th>Table</th><th>One row is …</th><th class="num">Rows</th><th class="num">Columns</th></tr></thead>
    <tbody>${d.tables.map(
      (t) => html`<tr><td><a href=${`#table-${t.name}`}><code>${t.name}</code></a></td><td>${t.about}</td>
        <td class="num">${formatInt(t.rows)}</td><td class="num">${t.columns.length}</td></tr>`,
    )}</tbody>
  </table></div>` as HTMLElement;
}

const STYLE = `
.sg-dict .sg-muted { color: var(--sg-muted); }
.sg-dict .card { max-width: 1100px; }
.sg-dict h2 code { font-size: 20px; background: none; }
.sg-dict-about { margin: 0.25rem 0 0.75rem; max-width: 80ch; }
.sg-dict-facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0 0 1rem; font-size: 14px; }
.sg-dict-facts dt { color: var(--sg-muted); }
.sg-dict-facts dd { margin: 0; }
.sg-dict-code { display: flex; align-items: flex-start; gap: 0.5rem; }
.sg-dict-snippet { position: relative; max-width: 640px; margin: 0.75rem 0; }
.sg-dict-snippet pre { margin: 0; padding: 0.75rem 1rem; }
.sg-dict-snippet .sg-dict-copy { position: absolute; top: 0.5rem; right: 0.5rem; }
.sg-dict-copy { font-size: 12px; padding: 2px 8px; white-space: nowrap; }
.sg-dict-howto h2, .sg-dict-documents h2 { font-size: 18px; color: var(--sg-ink); margin-top: 0; }
.sg-dict-scroll { overflow-x: auto; }
.sg-dict-columns td { vertical-align: top; }
.sg-dict-columns td:first-child { white-space: nowrap; }
.sg-dict-type { white-space: nowrap; }
.sg-dict-type.sg-dict-long { white-space: normal; min-width: 12ch; }
.sg-dict-type code { font-size: 12px; color: var(--sg-muted); }
.sg-dict-find { margin: 1rem 0; }
.sg-dict-find input { width: min(28rem, 100%); padding: 6px 8px; font-size: 14px; }
`;

/** The whole dictionary: how-to, column finder, index, a card per table, the other files. */
export function dataDictionary(d: DataDictionary): HTMLElement {
  const root =
    html`<div class="sg-dict" id="data-dictionary" data-tables=${d.tables.length} data-documents=${d.documents.length}>
    <style>${STYLE}</style>
    ${d.tables.length ? howTo(d.tables[0]!) : ""}
    <h2>Published tables</h2>
    ${tableIndex(d)}
    ${columnFinder(() => root)}
    ${d.tables.map((t) => tableCard(t, d.build))}
    ${documentsCard(d)}
  </div>` as HTMLElement;
  return root;
}
