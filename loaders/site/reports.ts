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

/** The report pages under `<root>/reports/`, alphabetically by name. */
export function reportPages(root: string): ReportPage[] {
  const dir = path.join(root, REPORTS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md") && !f.startsWith("_") && !f.startsWith("."))
    .map((f) => {
      const file = `${REPORTS_DIR}/${f}`;
      const slug = f.slice(0, -".md".length);
      return {name: pageTitle(readFileSync(path.join(dir, f), "utf-8")) ?? slug, path: `/${REPORTS_DIR}/${slug}`, file};
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}
