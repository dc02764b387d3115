/**
 * The weekly digest of the executive brief, as an alert-target delivery: tonight's row of
 * marts.mart_brief_digests (raised by the build once a week, loaders/brief/) in the two wire
 * formats the targets already take — a Slack incoming-webhook message, or the generic JSON event
 * {type, timestamp, data} — signed and delivered through the same outbox as the churn alerts.
 *
 * The event is built field by field (an allow-list): the brief's text and headline figures, which
 * name accounts as the executive overview does and carry no contact data.
 */
import type {DuckDBConnection} from "@duckdb/node-api";
import {formatDate} from "../../src/components/format.ts";
import {all} from "../duckdb.ts";
import {esc} from "./payloads.ts";

export const DIGEST_EVENT_TYPE = "portfolio.weekly_brief";

/** One row of marts.mart_brief_digests. */
export interface DigestRow {
  digest_id: string;
  as_of_date: string;
  baseline_as_of: string;
  headline: string;
  summary: string;
  key_points: string[];
  recommended_actions: string[];
  text: string;
  generator: "llm" | "builtin";
  watermark: string;
  accounts: number;
  arr_at_risk: number;
  arr_at_risk_change: number;
  entered_at_risk_accounts: number;
  renewals_entering: number;
}

export interface DigestEvent {
  type: typeof DIGEST_EVENT_TYPE;
  /** the build's as-of date, midnight UTC */
  timestamp: string;
  data: {
    digest_id: string;
    as_of: string;
    /** the as-of date of the build the week is compared with (the previous digest's) */
    since: string;
    headline: string;
    summary: string;
    key_points: string[];
    recommended_actions: string[];
    /** the whole brief as plain text, ending with the watermark */
    text: string;
    generator: "llm" | "builtin";
    watermark: string;
    accounts: number;
    arr_at_risk: number;
    arr_at_risk_change: number;
    entered_at_risk_accounts: number;
    renewals_entering: number;
  };
}

/** Tonight's digest (raised on the as-of date of marts.build_info), if the build raised one. */
export async function tonightsDigests(conn: DuckDBConnection): Promise<DigestRow[]> {
  return all<DigestRow>(
    conn,
    `SELECT digest_id, CAST(as_of_date AS VARCHAR) AS as_of_date, CAST(baseline_as_of AS VARCHAR) AS baseline_as_of, headline, summary,
            key_points, recommended_actions, text, generator, watermark, accounts, arr_at_risk, arr_at_risk_change,
            entered_at_risk_accounts, renewals_entering
     FROM marts.mart_brief_digests WHERE as_of_date = (SELECT as_of FROM marts.build_info) ORDER BY digest_id`,
  );
}

export function eventOfDigest(r: DigestRow): DigestEvent {
  return {
    type: DIGEST_EVENT_TYPE,
    timestamp: `${r.as_of_date}T00:00:00Z`,
    data: {
      digest_id: r.digest_id,
      as_of: r.as_of_date,
      since: r.baseline_as_of,
      headline: r.headline,
      summary: r.summary,
      key_points: [...r.key_points],
      recommended_actions: [...r.recommended_actions],
      text: r.text,
      generator: r.generator,
      watermark: r.watermark,
      accounts: r.accounts,
      arr_at_risk: r.arr_at_risk,
      arr_at_risk_change: r.arr_at_risk_change,
      entered_at_risk_accounts: r.entered_at_risk_accounts,
      renewals_entering: r.renewals_entering,
    },
  };
}

/** The message id receivers de-duplicate on: one per weekly digest, the same for every retry and target. */
export function digestMessageIdOf(digestId: string): string {
  return `msg_digest_${digestId}`;
}

export function isDigestEvent(e: {type: string}): e is DigestEvent {
  return e.type === DIGEST_EVENT_TYPE;
}

/** Slack's limit on a section's text. */
const SECTION_MAX = 3000;
const clip = (s: string, max = SECTION_MAX) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Slack incoming-webhook JSON: `text` is the notification fallback, `blocks` the layout. */
export function slackDigestPayload(e: DigestEvent): {text: string; blocks: unknown[]} {
  const d = e.data;
  const bullets = (title: string, items: readonly string[]) =>
    clip(`*${title}*\n${items.map((i) => `• ${esc(i)}`).join("\n")}`);
  const by = d.generator === "llm" ? "the language model" : "the built-in generator";
  return {
    text: `Weekly portfolio brief: ${esc(d.headline)}`,
    blocks: [
      {
        type: "header",
        text: {type: "plain_text", text: `Weekly portfolio brief · ${formatDate(d.as_of)}`.slice(0, 150)},
      },
      {type: "section", text: {type: "mrkdwn", text: clip(`*${esc(d.headline)}*`)}},
      {type: "section", text: {type: "mrkdwn", text: clip(esc(d.summary))}},
      ...(d.key_points.length
        ? [{type: "section", text: {type: "mrkdwn", text: bullets("What changed", d.key_points)}}]
        : []),
      ...(d.recommended_actions.length
        ? [{type: "section", text: {type: "mrkdwn", text: bullets("The ask", d.recommended_actions)}}]
        : []),
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `SaaSGuard · since ${formatDate(d.since)} · written by ${by} · ${esc(d.watermark)}`,
          },
        ],
      },
    ],
  };
}
