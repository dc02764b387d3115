/**
 * The data dictionary (src/data/data_dictionary.json.ts → the Data dictionary page), generated
 * from the allow-list that decides what leaves the warehouse (SITE_TABLES): every published
 * table with its columns, their DuckDB types (DESCRIBE of the very query that exports the table)
 * and meanings (COLUMN_MEANINGS), its row count, the pages that use it and how fresh it is; and
 * every other published file (SITE_DOCUMENTS) with a line on what is in it.
 *
 * "Which pages use it" is read from the pages themselves, so a report an analyst adds shows up
 * as a user with no registry to update: every `src/**.md` page's `FileAttachment("…")` calls
 * and `sql:` front matter, and the `FileAttachment` calls of the components it imports (directly
 * or through other components).
 *
 * The generator fails loudly — naming the table and the column — when a published column has no
 * meaning, a PII column is on a list (siteTableQuery refuses it), a table has no loader, or a
 * file in src/data/ is neither a table nor described.
 */
import {existsSync, readdirSync, readFileSync} from "node:fs";
import path from "node:path";
import {FEATURE_LABELS, riskFlagLabel} from "../../src/rules/labels.ts";
import {columnMeaning} from "./column-meanings.ts";
import {pageTitle, sitePages} from "./reports.ts";
import {SITE_DOCUMENTS} from "./site-documents.ts";
import {SITE_TABLES, siteTableFile, siteTableQuery, type SiteTable} from "./site-tables.ts";

/** What the generator needs from a read-only warehouse (src/data/_lib/read-warehouse.ts). */
export interface DictionaryWarehouse {
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  row<T = Record<string, unknown>>(sql: string): Promise<T>;
}

// the dictionary's shape is written once, beside the page that draws it
import type {
  DataDictionary,
  DictionaryColumn,
  DictionaryDocument,
  DictionaryTable,
  PageRef,
} from "../../src/components/dictionary.ts";
export type {DataDictionary, DictionaryColumn, DictionaryDocument, DictionaryTable, PageRef};

/** The dictionary's own page: it offers every table (its query console), which is not "using" one. */
export const DICTIONARY_PAGE = "/data-dictionary";

/** Extensions of Framework data loaders (the published file is the name without it). */
const LOADER_EXTENSION = /\.(ts|js|mjs|py|sh|R|rs|go|java|jl|php|exe)$/;
/** Archive loaders: pages attach their members (`c360/00.json` of `c360.tar`). */
const ARCHIVE_EXTENSION = /\.(tar|tar\.gz|tgz|zip)$/;

/** Throws, naming the table and column, for a PII column or a column without a meaning. */
export function checkDictionaryTables(tables: Readonly<Record<string, SiteTable>>): void {
  for (const [name, table] of Object.entries(tables)) {
    siteTableQuery(name, tables); // refuses PII columns, naming the table and the columns
    for (const column of table.columns)
      if (!columnMeaning(name, column))
        throw new Error(
          `data dictionary: column ${name}.${column} has no meaning — add "${column}" (or "${name}.${column}") to COLUMN_MEANINGS in loaders/site/column-meanings.ts`,
        );
    if (table.freshness && !table.columns.includes(table.freshness))
      throw new Error(
        `data dictionary: site table ${name}'s freshness column ${table.freshness} is not one of its columns`,
      );
  }
}

/** What the pages call a column (src/rules/labels.ts), if they name it. */
function columnLabel(column: string): string | undefined {
  if (Object.hasOwn(FEATURE_LABELS, column)) return FEATURE_LABELS[column]!.label;
  try {
    return riskFlagLabel(column);
  } catch {
    return undefined;
  }
}

/** `code` without // and /* *\/ comments (strings and templates kept as they are). */
export function stripComments(code: string): string {
  let out = "";
  for (let i = 0; i < code.length;) {
    const c = code[i]!;
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === "\\" ? 2 : 1;
      out += code.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && code[i + 1] === "/") {
      while (i < code.length && code[i] !== "\n") i++;
    } else if (c === "/" && code[i + 1] === "*") {
      const end = code.indexOf("*/", i + 2);
      i = end < 0 ? code.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The code of a markdown page: its ```js (ts, jsx, tsx) blocks and, outside fences and HTML comments, its inline `${…}`. */
function pageCode(markdown: string): string {
  const parts: string[] = [];
  const body = markdown.replace(/^---\r?\n[\s\S]*?\r?\n---/, "");
  const fence = /^(```+|~~~+)([^\n]*)\n([\s\S]*?)^\1[ \t]*$/gm;
  let last = 0;
  for (const m of body.matchAll(fence)) {
    parts.push(body.slice(last, m.index).replace(/<!--[\s\S]*?-->/g, ""));
    // Framework runs js/ts/jsx/tsx blocks, unless marked run=false
    if (/^\s*(js|ts|jsx|tsx)\b/.test(m[2]!) && !/\brun=false\b/.test(m[2]!)) parts.push(stripComments(m[3]!));
    last = m.index + m[0].length;
  }
  parts.push(body.slice(last).replace(/<!--[\s\S]*?-->/g, ""));
  return parts.join("\n");
}

/** The files a page's `sql:` front matter names (block or flow map), as written. */
export function frontMatterSqlFiles(markdown: string): string[] {
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(markdown)?.[1];
  if (!front) return [];
  const unquote = (s: string) => s.trim().replace(/^(["'])(.*)\1$/, "$2");
  const flow = /^sql:\s*\{([^}]*)\}/m.exec(front);
  if (flow)
    return flow[1]!
      .split(",")
      .map((e) => e.split(/:(.*)/s)[1])
      .filter((v): v is string => !!v && v.trim() !== "")
      .map(unquote);
  const block = /^sql:[ \t]*\r?\n((?:[ \t]+.*(?:\r?\n|$))+)/m.exec(front);
  if (!block) return [];
  return block[1]!
    .split(/\r?\n/)
    .map((l) => /^\s+[^:#\s][^:]*:\s*(.+?)\s*$/.exec(l)?.[1])
    .filter((v): v is string => !!v)
    .map(unquote);
}

/**
 * Which pages use which published file: `<file under src/data/>` (e.g. "risk_scores.arrow",
 * "c360/00.json") → the pages, found in the pages' code, front matter and imported components.
 */
export function siteUsage(srcRoot: string): Map<string, PageRef[]> {
  const root = path.resolve(srcRoot);
  const dataDir = path.join(root, "data");
  const codeOf = new Map<string, string>();
  const read = (file: string) => {
    if (!codeOf.has(file)) codeOf.set(file, stripComments(readFileSync(file, "utf-8")));
    return codeOf.get(file)!;
  };
  /** data files a piece of code attaches, and the local modules it imports */
  const scan = (code: string, dir: string, files: Set<string>, modules: string[]) => {
    for (const m of code.matchAll(/\bFileAttachment\(\s*(["'`])([^"'`$]+)\1\s*\)/g)) files.add(resolve(m[2]!, dir));
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+|\/[^"']+)["']/g)) {
      const target = resolve(m[1]!, dir);
      const candidates = [target, target.replace(/\.js$/, ".ts"), `${target}.ts`, `${target}.js`];
      const found = candidates.find((c) => c.startsWith(root + path.sep) && /\.(ts|js)$/.test(c) && existsSync(c));
      if (found) modules.push(found);
    }
  };
  const resolve = (ref: string, dir: string) => (ref.startsWith("/") ? path.join(root, ref) : path.resolve(dir, ref));

  const usage = new Map<string, PageRef[]>();
  for (const p of sitePages(root)) {
    const file = path.join(root, p.file);
    const markdown = readFileSync(file, "utf-8");
    const page: PageRef = {path: p.path, title: pageTitle(markdown) ?? path.basename(p.file, ".md")};
    const files = new Set<string>();
    const queue: string[] = [];
    scan(pageCode(markdown), path.dirname(file), files, queue);
    for (const ref of frontMatterSqlFiles(markdown)) files.add(resolve(ref, path.dirname(file)));
    const seen = new Set<string>();
    while (queue.length) {
      const module = queue.pop()!;
      if (seen.has(module)) continue;
      seen.add(module);
      scan(read(module), path.dirname(module), files, queue);
    }
    for (const f of files) {
      if (!f.startsWith(dataDir + path.sep)) continue;
      const key = path.relative(dataDir, f).replace(/\\/g, "/");
      const users = usage.get(key) ?? [];
      if (!users.some((u) => u.path === page.path)) users.push(page);
      usage.set(key, users);
    }
  }
  return usage;
}

/** The published files of `src/data/`: loader outputs (`x.json.ts` → `x.json`) and static files. */
export function publishedDataFiles(srcRoot: string): string[] {
  const dataDir = path.join(srcRoot, "data");
  return readdirSync(dataDir, {withFileTypes: true})
    .filter((e) => e.isFile() && !e.name.startsWith("_") && !e.name.startsWith("."))
    .map((e) =>
      LOADER_EXTENSION.test(e.name) && /\.[^.]+\.[^.]+$/.test(e.name) ? e.name.replace(LOADER_EXTENSION, "") : e.name,
    )
    .sort();
}

/** The relations a FROM clause reads (`schema.table` names). */
function sourcesOf(from: string): string[] {
  return [...new Set([...from.matchAll(/\b([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\b/gi)].map((m) => m[1]!))];
}

const byTitle = (pages: PageRef[] = []) =>
  [...pages].sort((a, b) => a.title.localeCompare(b.title) || a.path.localeCompare(b.path));

export interface DataDictionaryOptions {
  /** the site's root (`src/`) */
  srcRoot: string;
  tables?: Readonly<Record<string, SiteTable>>;
  documents?: Readonly<Record<string, string>>;
}

/** The data dictionary of the site under `srcRoot`, over the warehouse `w` (read-only). */
export async function buildDataDictionary(
  w: DictionaryWarehouse,
  options: DataDictionaryOptions,
): Promise<DataDictionary> {
  const tables = options.tables ?? SITE_TABLES;
  const documents = options.documents ?? SITE_DOCUMENTS;
  checkDictionaryTables(tables);

  const published = publishedDataFiles(options.srcRoot);
  const tableFiles = new Set(
    Object.keys(tables).map((n) => siteTableFile(n as keyof typeof SITE_TABLES).slice("data/".length)),
  );
  for (const file of tableFiles)
    if (!published.includes(file))
      throw new Error(`data dictionary: site table ${file.replace(/\.arrow$/, "")} has no loader src/data/${file}.ts`);
  const undescribed = published.filter((f) => !tableFiles.has(f) && !Object.hasOwn(documents, f));
  if (undescribed.length)
    throw new Error(
      `data dictionary: src/data/ publishes ${undescribed.join(", ")}, which ${undescribed.length === 1 ? "is" : "are"} neither a site table (SITE_TABLES) nor described in SITE_DOCUMENTS (loaders/site/site-documents.ts)`,
    );
  const stale = Object.keys(documents).filter((f) => !published.includes(f));
  if (stale.length)
    throw new Error(`data dictionary: SITE_DOCUMENTS describes ${stale.join(", ")}, which src/data/ does not publish`);

  const usage = siteUsage(options.srcRoot);
  const usersOf = (file: string) => {
    const pages = [...(usage.get(file) ?? [])];
    if (ARCHIVE_EXTENSION.test(file)) {
      const dir = file.replace(ARCHIVE_EXTENSION, "") + "/";
      for (const [member, users] of usage)
        if (member.startsWith(dir)) for (const u of users) if (!pages.some((p) => p.path === u.path)) pages.push(u);
    }
    return byTitle(pages);
  };

  const build = await w.row<DataDictionary["build"]>(`SELECT built_at, as_of, source, customers FROM marts.build_info`);
  const out: DictionaryTable[] = [];
  for (const [name, table] of Object.entries(tables)) {
    const query = siteTableQuery(name, tables);
    const described = await w.rows<{column_name: string; column_type: string}>(
      `SELECT column_name, column_type FROM (DESCRIBE ${query})`,
    );
    const names = described.map((d) => d.column_name);
    if (names.join() !== table.columns.join())
      throw new Error(
        `data dictionary: site table ${name} publishes ${names.join(", ")}, not its list ${table.columns.join(", ")}`,
      );
    const {n} = await w.row<{n: number}>(`SELECT count(*)::INTEGER AS n FROM (${query})`);
    const latest = table.freshness
      ? {
          column: table.freshness,
          value: (await w.row<{v: string | null}>(`SELECT max(${table.freshness})::VARCHAR AS v FROM (${query})`)).v,
        }
      : null;
    const file = siteTableFile(name as keyof typeof SITE_TABLES);
    out.push({
      name,
      file,
      about: table.about,
      sources: sourcesOf(table.from),
      rows: n,
      columns: described.map((d) => {
        const label = columnLabel(d.column_name);
        return {
          name: d.column_name,
          type: d.column_type,
          meaning: columnMeaning(name, d.column_name)!,
          ...(label ? {label} : {}),
        };
      }),
      pages: usersOf(file.slice("data/".length)).filter((p) => p.path !== DICTIONARY_PAGE),
      latest,
    });
  }
  return {
    build,
    tables: out,
    documents: published
      .filter((f) => !tableFiles.has(f))
      .map((f) => ({
        name: f.replace(/\.[^.]+$/, "").replace(/\.tar$/, ""),
        file: `data/${f}`,
        description: documents[f]!,
        pages: usersOf(f),
      })),
  };
}
