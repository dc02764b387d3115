/**
 * The Reports section of the sidebar: every markdown page under `src/reports/`, found when the
 * site is built or previewed — so a report an analyst adds (by hand or with `npm run report:new`)
 * is listed without editing the config. Each is named by its front-matter `title:` (else its first
 * `# ` heading, else its file name) and listed alphabetically.
 */
import {existsSync, readFileSync, readdirSync} from "node:fs";
import path from "node:path";

/** Where reports live, relative to the site's root (`src/`). */
export const REPORTS_DIR = "reports";

export interface ReportPage {
  name: string;
  /** the page's URL path, e.g. `/reports/cohort-retention` */
  path: string;
  /** the markdown file, relative to the site root */
  file: string;
}

/** The title a page gives itself: front matter `title:`, else its first `# ` heading. */
export function pageTitle(markdown: string): string | undefined {
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(markdown)?.[1];
  const title = front && /^title:\s*(.+?)\s*$/m.exec(front)?.[1];
  if (title) return title.replace(/^(["'])(.*)\1$/, "$2");
  return /^#\s+(.+?)\s*$/m.exec(markdown)?.[1];
}

/** A page of the site: a markdown file under the source root. */
export interface SitePage {
  /** the markdown file, relative to the source root (`reports/cohort-retention.md`) */
  file: string;
  /** its URL path: `/` for index.md, `/reports/cohort-retention`, `/guide/` for guide/index.md */
  path: string;
}

/**
 * Every page Framework builds from `root` (`src/`): all `*.md` files at any depth except those in
 * or named `_…` and `.…` — Framework's rule (such files are partials or its own cache,
 * `.observablehq`) — sorted by file. The sidebar's Reports, the data dictionary's "used by" and
 * the all-pages test read this one list.
 */
export function sitePages(root: string): SitePage[] {
  const out: SitePage[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), {withFileTypes: true})) {
      if (e.name.startsWith("_") || e.name.startsWith(".")) continue;
      const file = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(file);
      else if (e.isFile() && e.name.endsWith(".md"))
        out.push({file, path: "/" + file.slice(0, -".md".length).replace(/(^|\/)index$/, "$1")});
    }
  };
  if (existsSync(root)) walk("");
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** The report pages under `<root>/reports/`, alphabetically by name. */
export function reportPages(root: string): ReportPage[] {
  return sitePages(root)
    .filter((p) => p.file.startsWith(`${REPORTS_DIR}/`))
    .map((p) => ({
      name: pageTitle(readFileSync(path.join(root, p.file), "utf-8")) ?? path.basename(p.file, ".md"),
      path: p.path,
      file: p.file,
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}
