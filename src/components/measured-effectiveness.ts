/**
 * Which effectiveness the Uplift Simulator starts from: the one SaaSGuard measured on your own CTAs
 * (worked against held out, marts.mart_playbook_effectiveness via data/playbook_effectiveness.arrow)
 * once it has enough data, else config.uplift.effectiveness — and the sentence that says which.
 * Pure (no DOM, no Plot), so Node tests import it.
 */
import {config} from "../rules/config.js";
import {formatInt, formatPercent0} from "./format.js";

/** A row of marts.mart_playbook_effectiveness as data/playbook_effectiveness.arrow publishes it. */
export interface MeasuredEffectiveness {
  playbook_id: string;
  playbook: string;
  play_tier: string;
  n_worked: number;
  n_holdout: number;
  effectiveness: number | null;
  effectiveness_lo: number | null;
  effectiveness_hi: number | null;
  interval_level: number;
  enough_data: boolean;
  note: string;
}

export interface EffectivenessAssumption {
  /** where the starting effectiveness comes from */
  source: "measured" | "default";
  value: number;
  /** low / middle / high scenarios: the measured interval's ends (a low end below zero counts as 0), else config's */
  scenarios: number[];
  /** one sentence for the page: which figure, from how much data */
  text: string;
}

/**
 * The effectiveness the simulator starts from: the one measured over every playbook (worked vs
 * held-out CTAs) once both arms have enough matured CTAs, else config.uplift.effectiveness — an
 * industry benchmark, and the page says so.
 */
export function effectivenessAssumption(rows: readonly MeasuredEffectiveness[]): EffectivenessAssumption {
  const all = rows.find((r) => r.playbook_id === "all" && r.play_tier === "all");
  const pct = (x: number) => formatPercent0(x);
  if (
    all?.enough_data &&
    all.effectiveness !== null &&
    all.effectiveness_lo !== null &&
    all.effectiveness_hi !== null
  ) {
    // to the slider's step (0.01), so the figure it starts from is one of the scenarios
    const step = (x: number) => Math.round(x * 100) / 100;
    return {
      source: "measured",
      value: step(all.effectiveness),
      scenarios: [step(Math.max(0, all.effectiveness_lo)), step(all.effectiveness), step(all.effectiveness_hi)],
      text:
        `Effectiveness: measured — ${pct(all.effectiveness)} (${pct(all.interval_level)} interval ${pct(all.effectiveness_lo)} to ${pct(all.effectiveness_hi)}), ` +
        `the churn prevented on ${formatInt(all.n_worked)} worked CTAs against ${formatInt(all.n_holdout)} held out whose outcome has matured; ` +
        `the scenarios are the interval's ends${all.effectiveness_lo < 0 ? " (its low end is below zero: the plays may not help at all)" : ""}.`,
    };
  }
  const why = all ? ` — ${all.note}` : "";
  return {
    source: "default",
    value: config.uplift.effectiveness,
    scenarios: [...config.uplift.scenarios],
    text: `Effectiveness: the default ${pct(config.uplift.effectiveness)}, an industry benchmark (config.uplift.effectiveness), until SaaSGuard has measured your plays against held-out CTAs${why}.`,
  };
}
