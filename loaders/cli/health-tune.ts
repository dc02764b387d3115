/**
 * `npm run health:tune [-- --apply]` fits the health score's weights and anchors to the
 * warehouse's history (loaders/health/tune.ts), prints current vs proposed on the later
 * cutoffs, and writes the proposal to data/health-score.proposed.json. Only `--apply` adopts it
 * (it replaces src/rules/health-score.json; the next `npm run build` scores with it).
 */
import {copyFileSync, renameSync, writeFileSync} from "node:fs";
import {resolve} from "node:path";
import {RISK_TIERS} from "../../src/rules/config.ts";
import {HEALTH_SCORE_FILE, loadHealthScore, parseHealthScore} from "../../src/rules/health-score.ts";
import {DEFAULTS} from "../build.ts";
import {measuredComponents, tuneHealthScore, type ScoreView, type TuneReport} from "../health/tune.ts";
import {isMainModule, parseCommandArgs, runCommand} from "./command.ts";
import {attachWarehouse} from "./train.ts";

const USAGE =
  "usage: npm run health:tune -- [--apply] [--weights-only] [--no-segments] [--warehouse FILE] [--out FILE] [--file FILE]";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const num = (x: number) => String(Number(x.toPrecision(4)));

function mix(v: ScoreView): string {
  const n = RISK_TIERS.reduce((s, t) => s + v.mix[t], 0);
  return RISK_TIERS.map((t) => `${t[0]} ${pct(v.mix[t] / n)}`).join(" ");
}

/** The report as the terminal shows it: per-cutoff figures, then the components that moved. */
export function formatReport(r: TuneReport): string {
  const lines: string[] = [];
  lines.push(
    `Fitted on ${r.fitCutoffs.length} cutoffs (${r.fitCutoffs[0]}…${r.fitCutoffs.at(-1)}); evaluated on the later ${r.testCutoffs.join(", ")}.`,
    `"Scored healthy" = risk score below ${r.healthyBelow} (Green); red flag above ${pct(r.redFlag)} of churned accounts.`,
    "",
    "cutoff       churned  ROC-AUC current → proposed   churned scored healthy current → proposed   tier mix current | proposed",
  );
  for (const c of r.perCutoff)
    lines.push(
      `${c.cutoff}  ${String(c.current.churned).padStart(7)}  ${c.current.auc.toFixed(3)} → ${c.proposed.auc.toFixed(3)}${" ".repeat(14)}${pct(c.current.churnedHealthyShare).padStart(6)} → ${pct(c.proposed.churnedHealthyShare).padEnd(6)}${c.proposed.churnedHealthyShare > r.redFlag ? " (red flag)" : "           "}${" ".repeat(16)}${mix(c.current)} | ${mix(c.proposed)}`,
    );
  lines.push(
    "",
    `Tier changes month to month: ${pct(r.stability.current)} current → ${pct(r.stability.proposed)} proposed (${r.stability.pairs.toLocaleString("en-US")} account-months).`,
    `At ${r.testCutoffs.at(-1)}, ${r.changedTier.accounts.toLocaleString("en-US")} of ${r.changedTier.of.toLocaleString("en-US")} accounts would change tier.`,
    "",
    "component                                              weight            worst → best",
  );
  for (const c of r.components) {
    const moved =
      Math.abs(c.current.weight - c.proposed.weight) >= 0.005 ||
      c.current.worst !== c.proposed.worst ||
      c.current.best !== c.proposed.best;
    lines.push(
      `${(c.label + (c.measured ? "" : " (not measured here)")).padEnd(54)} ${c.current.weight.toFixed(3)} → ${c.proposed.weight.toFixed(3)}   ${num(c.current.worst)}…${num(c.current.best)} → ${num(c.proposed.worst)}…${num(c.proposed.best)}${moved ? "  *" : ""}`,
    );
  }
  lines.push(
    "",
    `Segments (own weights need ≥ ${r.proposal.minSegmentChurned} churned accounts on the fitting cutoffs):`,
  );
  for (const s of r.segments)
    lines.push(
      `  ${s.segment}: ${s.churned} churned — ${
        s.own
          ? `own weights (largest: ${Object.entries(s.weights!)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 3)
              .map(([k, w]) => `${k} ${w.toFixed(2)}`)
              .join(", ")})`
          : "global weights (not enough history)"
      }`,
    );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const {values} = parseCommandArgs({
    options: {
      apply: {type: "boolean", default: false},
      "weights-only": {type: "boolean", default: false},
      "no-segments": {type: "boolean", default: false},
      warehouse: {type: "string", default: DEFAULTS.warehousePath},
      out: {type: "string", default: "data/health-score.proposed.json"},
      file: {type: "string", default: process.env.SAASGUARD_HEALTH_SCORE ?? HEALTH_SCORE_FILE},
    },
    strict: true,
  });
  const file = resolve(values.file);
  const current = loadHealthScore(file);
  const {w, asOf} = await attachWarehouse(resolve(values.warehouse));
  try {
    const report = await tuneHealthScore(w.conn, current, await measuredComponents(w.conn), {
      asOf,
      anchors: !values["weights-only"],
      segments: !values["no-segments"],
      log: (m) => console.log(`  ${m}`),
    });
    console.log(`\n${formatReport(report)}\n`);
    const text = `${JSON.stringify(report.proposal, null, 2)}\n`;
    const out = resolve(values.out);
    writeFileSync(out, text);
    console.log(`proposal written to ${out} (diff it against ${file})`);
    if (!values.apply) {
      console.log("nothing changed: run with --apply to adopt it, then npm run build");
      return;
    }
    parseHealthScore(text, out);
    // replace atomically: a crash leaves the old file or the new one, never half of it
    copyFileSync(out, `${file}.tmp`);
    renameSync(`${file}.tmp`, file);
    console.log(`applied: ${file} now holds the proposal — npm run build scores with it`);
  } finally {
    w.close();
  }
}

if (isMainModule(import.meta.url))
  await runCommand({name: "health:tune", usage: USAGE, unchanged: "src/rules/health-score.json is unchanged"}, main);
