/**
 * `npm run report:new -- NAME`: starts a report. Writes `src/reports/<slug>.md` from the report
 * template (`src/report-template.md`), titled NAME, with the template's relative paths
 * (`./data/…`, `./components/…`, `FileAttachment("data/…")`) rewritten for the subfolder, and
 * prints the file and its preview URL. The sidebar lists every page under `src/reports/`
 * (loaders/site/reports.ts), so the new report is in the Reports section of the next build, and of
 * a running preview from the next page it serves — nothing else to register.
 *
 * It never overwrites: a report whose file exists is an error, and so is a name that makes no
 * file name, a name too long for one, or a name with characters that would change the meaning
 * of the page's markdown (`$`, braces, backticks, angle brackets, quotes, backslashes).
 */
import {existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync} from "node:fs";
import path from "node:path";
import {isMainModule, parseCommandArgs, runCommand, UsageError} from "./command.ts";
import {REPORTS_DIR} from "../site/reports.ts";

const USAGE = 'usage: npm run report:new -- NAME   (e.g. npm run report:new -- "Cohort retention")';

/** The longest report name: it is the page's title and sidebar entry, and (slugified) its URL. */
export const MAX_NAME_LENGTH = 80;

/** Where the template lives and where reports go, relative to the project root. */
export const TEMPLATE_FILE = "src/report-template.md";

/** The URL `npm run dev` serves on by default (Framework's preview). */
export const PREVIEW_ORIGIN = "http://127.0.0.1:3000";

/** Characters a name may not contain, each with why (they are markdown or JavaScript syntax on the page). */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/[\u0000-\u001f\u007f]/, "a control character (newline, tab…)"],
  [/\$/, '"$" (starts a JavaScript expression on the page)'],
  [/[{}]/, "a brace"],
  [/`/, "a backtick"],
  [/[<>]/, 'an angle bracket ("<" or ">")'],
  [/"/, "a double quote (apostrophes are fine)"],
  [/\\/, "a backslash"],
];

/** The report's file name (without `.md`): lowercase ASCII letters and digits joined by single hyphens. */
export function reportSlug(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/ß/g, "ss")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The name, trimmed and with runs of spaces collapsed, or a UsageError saying what is wrong with it. */
export function checkReportName(raw: string): {name: string; slug: string} {
  const name = raw.trim().replace(/ {2,}/g, " ");
  if (!name) throw new UsageError("a report NAME is required");
  if ([...name].length > MAX_NAME_LENGTH)
    throw new UsageError(
      `the name is ${[...name].length} characters long; a report name has at most ${MAX_NAME_LENGTH}`,
    );
  for (const [re, what] of FORBIDDEN)
    if (re.test(name)) throw new UsageError(`the name "${name.replace(/[\u0000-\u001f]/g, "?")}" contains ${what}`);
  const slug = reportSlug(name);
  if (!slug)
    throw new UsageError(
      `the name "${name}" has no letters or digits a file name can be made of (a-z, 0-9, accented letters become plain ones)`,
    );
  return {name, slug};
}

/**
 * The template's markdown made into the report `name`, one folder down (`src/reports/`):
 * the title and first heading are the name; paths relative to `src/` gain a `../`; the
 * template's instructions comment says where the page came from.
 */
export function reportFromTemplate(template: string, name: string): string {
  const front = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(template);
  let head = front ? front[1]! : "";
  let body = front ? template.slice(front[0].length) : template;
  // a double-quoted YAML scalar (JSON's string syntax is valid YAML); names have no quotes or backslashes
  const title = `title: ${JSON.stringify(name)}`;
  head = /^title:.*$/m.test(head) ? head.replace(/^title:.*$/m, () => title) : `${title}\n${head}`;
  // front matter paths (sql: tables) relative to the page
  head = head.replace(/(:\s*)\.\/(?!\.)/g, "$1../");
  body = /^# .*$/m.test(body) ? body.replace(/^# .*$/m, () => `# ${name}`) : `# ${name}\n\n${body}`;
  // imports ("./components/ui.js") and file attachments ("data/x.json", "./data/x.json")
  body = body
    .replace(/(["'])\.\/(?!\.)/g, "$1../")
    .replace(/\bFileAttachment\((["'])(?![./]|[a-z]+:)/g, "FileAttachment($1../");
  body = body.replace(
    /Start a report with `npm run report:new -- "[^"]*"`\.\s*/,
    `Made from ${TEMPLATE_FILE} by \`npm run report:new\`; \`npm run dev\` previews it live as you edit. `,
  );
  return `---\n${head}\n---\n${body}`;
}

export interface NewReport {
  /** the file written, relative to the project root */
  file: string;
  /** the page's path on the site, e.g. `/reports/cohort-retention` */
  urlPath: string;
}

/** Writes the report into `<root>/src/reports/`; never overwrites. */
export function createReport(rawName: string, root = process.cwd()): NewReport {
  const {name, slug} = checkReportName(rawName);
  const file = path.posix.join("src", REPORTS_DIR, `${slug}.md`);
  const abs = path.join(root, file);
  if (existsSync(abs))
    throw new Error(
      `${file} already exists (a report named "${name}" or one with the same file name); pick another name`,
    );
  const templateFile = path.join(root, TEMPLATE_FILE);
  if (!existsSync(templateFile)) throw new Error(`the report template ${TEMPLATE_FILE} is missing`);
  const markdown = reportFromTemplate(readFileSync(templateFile, "utf-8"), name);
  mkdirSync(path.dirname(abs), {recursive: true});
  // "wx": fails rather than replacing a file made since the check above
  writeFileSync(abs, markdown, {flag: "wx"});
  // A running `npm run dev` re-reads the config (and so the sidebar's list of reports) only when
  // the config file's modification time changes: touching it lists the new report at once.
  const config = path.join(root, "observablehq.config.ts");
  if (existsSync(config)) {
    const now = new Date();
    utimesSync(config, now, now);
  }
  return {file, urlPath: `/${REPORTS_DIR}/${slug}`};
}

if (isMainModule(import.meta.url)) {
  await runCommand({name: "report:new", usage: USAGE, unchanged: "Nothing was written."}, async () => {
    const {positionals} = parseCommandArgs({options: {}, allowPositionals: true, strict: true});
    // unquoted words are one name: npm run report:new -- Cohort retention
    const report = createReport(positionals.join(" "));
    console.log(`report:new: wrote ${report.file}`);
    console.log(`  preview it live: npm run dev, then open ${PREVIEW_ORIGIN}${report.urlPath}`);
    console.log(
      `  it is listed under Reports in the sidebar; its tables and columns are on ${PREVIEW_ORIGIN}/data-dictionary`,
    );
  });
}
