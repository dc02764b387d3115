/**
 * `npm run contract [-- --write]`: prints the raw data contract (loaders/contract.ts) as the
 * markdown the README embeds between its "contract:start" and "contract:end" markers (--write
 * updates README.md). A test keeps the README in step with the code.
 */
import {readFileSync, writeFileSync} from "node:fs";
import {isMainModule, parseCommandArgs, runCommand} from "./command.ts";
import {CONTRACT} from "../contract.ts";
import {config} from "../../src/rules/config.ts";
import {valuesOf} from "../../src/rules/vocabulary.ts";
import {REQUIRED_TABLES} from "../ingest.ts";

const USAGE = "usage: npm run contract [-- --write]   (--write updates README.md's contract section)";

export function contractMarkdown(): string {
  const out: string[] = [];
  for (const t of CONTRACT) {
    out.push(
      `#### raw.${t.name} — \`${t.name}.csv\` or \`${t.name}.parquet\`${REQUIRED_TABLES.includes(t.name) ? " (required)" : " (optional)"}`,
    );
    out.push("", `${t.description} Unique key: ${t.key.map((k) => `\`${k}\``).join(" + ")}.`, "");
    out.push("| column | type | required | rules | meaning |", "|---|---|---|---|---|");
    for (const c of t.columns) {
      const rules = [
        c.vocabulary
          ? `vocabulary \`${c.vocabulary}\` (default: ${valuesOf(config.vocabulary, c.vocabulary)
              .map((a) => `\`${a}\``)
              .join(", ")})`
          : "",
        c.min !== undefined ? `≥ ${c.min}` : "",
        c.max !== undefined ? `≤ ${c.max}` : "",
        c.references ? `must exist in ${c.references.table}` : "",
        c.notFarFuture ? "not far in the future" : "",
        c.pii ? "personal data" : "",
      ].filter(Boolean);
      out.push(`| \`${c.name}\` | ${c.type} | ${c.required ? "yes" : "no"} | ${rules.join("; ")} | ${c.description} |`);
    }
    for (const r of t.rowRules ?? []) out.push(`| | | | row rule: \`${r.rule}\` | |`);
    out.push("");
  }
  return out.join("\n").trimEnd();
}

/** README.md with its contract section replaced by the current contract. */
export function readmeWithContract(readme: string): string {
  const start = "<!-- contract:start -->";
  const end = "<!-- contract:end -->";
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${start} … ${end} section`);
  return readme.slice(0, i + start.length) + "\n" + contractMarkdown() + "\n" + readme.slice(j);
}

if (isMainModule(import.meta.url))
  await runCommand({name: "contract", usage: USAGE}, async () => {
    const {values} = parseCommandArgs({
      options: {write: {type: "boolean", default: false}},
      strict: true,
    });
    if (values.write) writeFileSync("README.md", readmeWithContract(readFileSync("README.md", "utf8")));
    else console.log(contractMarkdown());
  });
