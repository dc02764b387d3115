/**
 * "Broken reports fail loudly": the checks every page under src/ gets in Chromium, and the
 * messages that name what broke — `src/reports/x.md: sql block 2 (line 14) failed: Catalog Error: …`.
 *
 * How a cell error is traced to its block, with Framework's own code rather than a guess:
 * - the page's markdown is parsed by Framework's markdown parser (createMarkdownIt, the same
 *   function `observable build` and `observable preview` render with), whose fence and `${…}`
 *   renderers are wrapped to note, for each block, the cell id Framework gives it (a hash of the
 *   block's compiled source), its language, its line in the file and the names it declares and uses;
 * - on the page, Framework displays a failed cell's error just before the cell's root, a
 *   `<!--:cellid:-->` comment; so each `.observablehq--error` node is followed by the id of
 *   the cell it belongs to. A block that did not even parse is rendered as a SyntaxError with
 *   no id, matched to the blocks that failed to parse in order.
 * A cell fails with the error of a cell it uses: the block whose own code failed is reported as
 * "failed", the blocks that used what it declares as "did not run", naming it.
 */
import {sitePages} from "../../loaders/site/reports.ts";
import path from "node:path";
import {pathToFileURL} from "node:url";
import type {Browser, Page} from "playwright-core";
import {visitPage, type PageVisit} from "./site-pages.ts";

/** One live block of a page: a fenced code block or an inline `${…}` expression. */
export interface PageBlock {
  /** Framework's cell id (undefined for a block that failed to parse) */
  id?: string;
  /** the fence's language (`sql`, `js`, …) or "inline" for `${…}` */
  kind: string;
  /** 1-based position among the page's blocks of the same kind */
  index: number;
  /** 1-based line of the block's opening fence (or of its `${`) in the markdown file */
  line: number;
  /** top-level names the block declares (`rows` for ```sql id=rows) */
  declares: string[];
  /** names the block uses */
  uses: string[];
  /** set when Framework could not parse the block */
  syntaxError?: string;
}

/** `sql block 2 (line 14)`, `inline expression 1 (line 30)` */
export function describeBlock(b: PageBlock): string {
  return b.kind === "inline"
    ? `inline expression ${b.index} (line ${b.line})`
    : `${b.kind} block ${b.index} (line ${b.line})`;
}

// Framework ships no type declarations for its internals: the shapes used here
interface MdToken {
  type: string;
  info: string;
  content: string;
  map: [number, number] | null;
}
type Rule = (tokens: MdToken[], idx: number, options: unknown, context: FrameworkContext, self: unknown) => string;
interface FrameworkCode {
  id: string;
  node: {declarations: {name: string}[] | null; references: {name: string}[]};
}
interface FrameworkContext {
  code: FrameworkCode[];
  startLine: number;
  currentLine: number;
  path: string;
}
interface MarkdownIt {
  parse(src: string, env: FrameworkContext): MdToken[];
  options: unknown;
  renderer: {rules: Record<string, Rule>; render(tokens: MdToken[], options: unknown, env: FrameworkContext): string};
}

const FRAMEWORK = path.resolve(import.meta.dirname, "../../node_modules/@observablehq/framework/dist");
async function frameworkModule<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(path.join(FRAMEWORK, file)).href)) as T;
}

/**
 * The live blocks of a page, in document order, as Framework compiles them. `pagePath` is the
 * page's path from the source root (`/reports/x.md`), which Framework uses to resolve files.
 */
export async function pageBlocks(markdown: string, pagePath: string): Promise<PageBlock[]> {
  const {createMarkdownIt} = await frameworkModule<{
    createMarkdownIt: (o?: object) => Promise<MarkdownIt> | MarkdownIt;
  }>("markdown.js");
  const {readFrontMatter} = await frameworkModule<{readFrontMatter: (s: string) => {content: string}}>(
    "frontMatter.js",
  );
  const md = await createMarkdownIt();
  const {content} = readFrontMatter(markdown);
  const start = markdown.endsWith(content) ? markdown.length - content.length : 0;
  const lineOffset = markdown.slice(0, start).split("\n").length - 1;
  const lineAt = (offset: number) => content.slice(0, offset).split("\n").length + lineOffset;

  const blocks: PageBlock[] = [];
  const counts = new Map<string, number>();
  const next = (kind: string) => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    return n;
  };
  const from = (code: FrameworkCode | undefined) => ({
    id: code?.id,
    declares: (code?.node.declarations ?? []).map((d) => d.name),
    uses: (code?.node.references ?? []).map((r) => r.name),
  });
  const syntaxError = (html: string) => /observablehq--error[^>]*>\s*(SyntaxError:[^<]*)/.exec(html)?.[1]?.trim();

  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, context, self) => {
    const token = tokens[idx]!;
    const kind = token.info.trim().split(/[\s{]/)[0] ?? "";
    const before = context.code.length;
    const html = fence(tokens, idx, options, context, self);
    const code = context.code[before];
    const error = syntaxError(html);
    if (code || error)
      blocks.push({
        kind,
        index: next(kind),
        line: lineOffset + (token.map?.[0] ?? 0) + 1,
        ...from(code),
        syntaxError: error,
      });
    return html;
  };
  // `${…}` can sit in markdown or in HTML blocks (where markdown-it keeps no line): found in the text, in order
  let cursor = 0;
  const placeholder = md.renderer.rules.placeholder!;
  md.renderer.rules.placeholder = (tokens, idx, options, context, self) => {
    const token = tokens[idx]!;
    const before = context.code.length;
    const html = placeholder(tokens, idx, options, context, self);
    const at = content.indexOf("${" + token.content, cursor);
    if (at >= 0) cursor = at + 2;
    blocks.push({
      kind: "inline",
      index: next("inline"),
      line: at >= 0 ? lineAt(at) : 0,
      ...from(context.code[before]),
      syntaxError: syntaxError(html),
    });
    return html;
  };
  const context: FrameworkContext = {code: [], startLine: 0, currentLine: 0, path: pagePath};
  md.renderer.render(md.parse(content, context), md.options, context);
  return blocks;
}

/** An error displayed on the page: the id of the cell it belongs to (none for a SyntaxError), and its text. */
export interface DisplayedError {
  id?: string;
  text: string;
}

/** The cell errors Framework displays on the page, each with the cell id of the root it stands before. */
export async function displayedErrors(page: Page): Promise<DisplayedError[]> {
  return page.$$eval(".observablehq--error", (nodes) =>
    nodes
      // an error inside another error's display is the same error
      .filter((n) => !n.parentElement?.closest(".observablehq--error"))
      .map((n) => {
        let id: string | undefined;
        for (let s = n.nextSibling; s; s = s.nextSibling) {
          if (s.nodeType === Node.COMMENT_NODE) {
            const m = /^:(.+):$/.exec((s as Comment).data);
            if (m) {
              id = m[1];
              break;
            }
          }
        }
        return {id, text: (n.textContent ?? "").trim()};
      }),
  );
}

/**
 * The first line of an error's text (DuckDB adds "Did you mean…" and the query's LINE on the next
 * ones), without the "Error: " the inspector puts before a plain Error's message.
 */
function firstLine(text: string): string {
  return text
    .split("\n")[0]!
    .trim()
    .replace(/^Error: (?=.)/, "");
}

/**
 * Messages naming the page file and block of each displayed error: `file: sql block 2 (line 14)
 * failed: <error>` for a block whose own code failed, `file: js block 3 (line 20) did not run:
 * it uses rows from sql block 2 (line 14), which failed` for a block that depends on it.
 */
export function errorMessages(file: string, blocks: readonly PageBlock[], errors: readonly DisplayedError[]): string[] {
  const byId = new Map(blocks.filter((b) => b.id).map((b) => [b.id!, b]));
  const unparsed = blocks.filter((b) => b.syntaxError);
  const failedIds = new Set(errors.map((e) => e.id).filter((id): id is string => id !== undefined));
  const failedBlocks = [...failedIds].map((id) => byId.get(id)).filter((b): b is PageBlock => b !== undefined);
  const declaredBy = (name: string, self: PageBlock) =>
    failedBlocks.find((b) => b !== self && b.declares.includes(name)) ??
    unparsed.find((b) => b !== self && b.declares.includes(name));
  const roots: string[] = [];
  const dependents: string[] = [];
  const seen = new Set<string>();
  let syntaxErrors = 0;
  for (const e of errors) {
    if (e.id === undefined) {
      const b = /^SyntaxError/.test(e.text) ? unparsed[syntaxErrors++] : undefined;
      roots.push(`${file}: ${b ? describeBlock(b) : "a block"} failed: ${firstLine(e.text)}`);
      continue;
    }
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const b = byId.get(e.id);
    if (!b) {
      roots.push(`${file}: a cell (id ${e.id}) that is not in the page's source failed: ${firstLine(e.text)}`);
      continue;
    }
    const upstream = b.uses.map((name) => [name, declaredBy(name, b)] as const).find(([, d]) => d !== undefined);
    if (upstream)
      dependents.push(
        `${file}: ${describeBlock(b)} did not run: it uses ${upstream[0]} from ${describeBlock(upstream[1]!)}, which failed`,
      );
    else roots.push(`${file}: ${describeBlock(b)} failed: ${firstLine(e.text)}`);
  }
  return [...roots, ...dependents];
}

/** A page of the site: its markdown file (relative to the project root) and its URL path. */
export interface SourcePage {
  /** e.g. `src/reports/cohort-retention.md` */
  file: string;
  /** e.g. `reports/cohort-retention` (`` for src/index.md), relative to the site's root URL */
  urlPath: string;
  /** the page's path from the source root as Framework names it, e.g. `/reports/cohort-retention.md` */
  pagePath: string;
}

/** Every page Framework builds from `<projectRoot>/<srcDir>` (loaders/site/reports.ts sitePages). */
export function sourcePages(projectRoot: string, srcDir = "src"): SourcePage[] {
  return sitePages(path.join(projectRoot, srcDir)).map((p) => ({
    file: `${srcDir}/${p.file}`,
    urlPath: p.path.slice(1),
    pagePath: `/${p.file}`,
  }));
}

export interface PageCheck extends PageVisit {
  /** one message per failed block, naming the page file and the block */
  blockErrors: string[];
  /** everything wrong with the page, each naming the page file: empty when the page is clean */
  problems: string[];
}

/**
 * Loads `url` (the page built or previewed from `markdown`, the content of `file`) in Chromium,
 * waits for every cell to settle, and reports what failed, each message naming `file`: blocks
 * (errorMessages), console errors, requests off the page's origin and failed requests.
 */
export async function checkPage(
  browser: Browser,
  url: string,
  page: {file: string; pagePath: string; markdown: string},
  options: {name?: string; ready?: (page: Page) => Promise<void>} = {},
): Promise<PageCheck & {page: Page; close: () => Promise<void>}> {
  const blocks = await pageBlocks(page.markdown, page.pagePath);
  const visit = await visitPage(
    browser,
    url,
    options.name ?? page.pagePath.replace(/^\//, "").replace(/\W+/g, "_"),
    options.ready,
  );
  return withProblems(visit, page.file, blocks, await displayedErrors(visit.page));
}

/** The PageCheck of a visit already made (for a page that changed since it was opened, with its current blocks). */
export function withProblems<V extends PageVisit>(
  visit: V,
  file: string,
  blocks: readonly PageBlock[],
  errors: readonly DisplayedError[],
): V & PageCheck {
  const blockErrors = errorMessages(file, blocks, errors);
  return {
    ...visit,
    blockErrors,
    problems: [
      ...blockErrors,
      ...visit.consoleErrors.map((e) => `${file}: ${e}`),
      ...visit.foreign.map((r) => `${file}: request off the site: ${r.url}`),
      ...visit.failed.map((r) => `${file}: failed request: ${r.status ?? r.failure} ${r.url}`),
    ],
  };
}

/**
 * Waits until the page's cells have settled and every chart card drew something (marks, a table,
 * an empty state or a status): the dashboards' `waitForCharts` without its need for an `<h1>`,
 * which an analyst's report may not have.
 */
export async function chartsSettled(page: Page, timeout = 90_000): Promise<void> {
  await page.waitForFunction(
    () =>
      !document.querySelector("observablehq-loading") &&
      [...document.querySelectorAll("#observablehq-main .sg-chart")].every((card) =>
        card.querySelector("svg, table, .sg-empty, [data-state], .sg-callout, .observablehq--error"),
      ),
    undefined,
    {timeout, polling: 200},
  );
}
