/**
 * What an alert says, and its two wire formats.
 *
 * The event is built field by field from an mart_alert_history row (an allow-list, never a spread),
 * so nothing beyond what a CSM already sees in Customer 360 can leak into a webhook: company
 * name, tier, scores, ARR, renewal date, owning CSM — never contact e-mails or ticket text.
 */
import type {AlertRow} from "../cta.ts";
import {isDigestEvent, slackDigestPayload, type DigestEvent} from "./digest.ts";
import {componentWords} from "../../src/rules/labels.ts";

export type AlertEventType =
  "customer.risk_tier_entered" | "customer.health_score_dropped" | "customer.renewal_at_risk" | "saasguard.test";

const TYPE_OF_KIND: Record<AlertRow["kind"], AlertEventType> = {
  tier_entered: "customer.risk_tier_entered",
  health_drop: "customer.health_score_dropped",
  renewal_at_risk: "customer.renewal_at_risk",
};

/** What an alert event carries: the alert row without its bookkeeping, stamped with the build date. */
export type AlertData = Omit<AlertRow, "raised_on" | "previous_as_of" | "kind"> & {as_of: string};

/** The generic JSON event (Standard Webhooks' recommended {type, timestamp, data} shape). */
export interface AlertEvent {
  type: AlertEventType;
  /** when the alert was raised (the build's as-of date, midnight UTC), ISO 8601 */
  timestamp: string;
  data: AlertData;
}

export function eventOfAlert(r: AlertRow): AlertEvent {
  return {
    type: TYPE_OF_KIND[r.kind],
    timestamp: `${r.raised_on}T00:00:00Z`,
    data: {
      alert_id: r.alert_id,
      as_of: r.raised_on,
      customer_id: r.customer_id,
      company_name: r.company_name,
      csm_owner: r.csm_owner,
      plan_tier: r.plan_tier,
      risk_tier: r.risk_tier,
      previous_risk_tier: r.previous_risk_tier,
      risk_score: r.risk_score,
      health_score: r.health_score,
      previous_health_score: r.previous_health_score,
      health_colour: r.health_colour,
      arr: r.arr,
      arr_at_risk: r.arr_at_risk,
      renewal_date: r.renewal_date,
      days_to_renewal: r.days_to_renewal,
      top_risk_drivers: r.top_risk_drivers,
      recommended_action: r.recommended_action,
      summary: r.summary,
    },
  };
}

/** The message id receivers de-duplicate on: one per alert, the same for every retry and target. */
export function messageIdOf(alertId: string): string {
  return `msg_${alertId}`;
}

/** A test event for the admin endpoint and `npm run alerts -- --test <target>`: clearly fake data. */
export function testEvent(now: Date = new Date()): AlertEvent {
  const day = now.toISOString().slice(0, 10);
  return {
    type: "saasguard.test",
    timestamp: now.toISOString(),
    data: {
      alert_id: "test",
      as_of: day,
      customer_id: "TEST-0000",
      company_name: "SaaSGuard test account",
      csm_owner: null,
      plan_tier: null,
      risk_tier: "High",
      previous_risk_tier: "Medium",
      risk_score: 65,
      health_score: 35,
      previous_health_score: 55,
      health_colour: "Red",
      arr: 0,
      arr_at_risk: 0,
      renewal_date: null,
      days_to_renewal: null,
      top_risk_drivers: null,
      recommended_action: null,
      summary: "Test alert from SaaSGuard: if you can read this, the webhook works.",
    },
  };
}

/** top_risk_drivers holds health component ids ("usage_level, support_load"): a person reads their labels. */
function componentLabels(ids: string): string {
  return ids
    .split(", ")
    .filter(Boolean)
    .map((id) => componentWords(id))
    .join(", ");
}

/** Slack mrkdwn treats &, < and > as control characters. */
export function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

const usd = (n: number) => `$${Math.round(n).toLocaleString("en-US")}`;

const HEADLINE: Record<AlertEventType, string> = {
  "customer.risk_tier_entered": "Churn risk alert",
  "customer.health_score_dropped": "Health score drop",
  "customer.renewal_at_risk": "Renewal at risk",
  "saasguard.test": "Test alert",
};

/** Slack incoming-webhook JSON: `text` is the notification fallback, `blocks` the layout. */
export function slackPayload(e: AlertEvent): {text: string; blocks: unknown[]} {
  const d = e.data;
  const fields = [
    `*Risk tier*\n${esc(d.risk_tier)}${d.previous_risk_tier ? ` (was ${esc(d.previous_risk_tier)})` : ""}`,
    `*Health score*\n${d.health_score.toFixed(1)} (${esc(d.health_colour)})${d.previous_health_score !== null ? `, was ${d.previous_health_score.toFixed(1)}` : ""}`,
    `*ARR at risk*\n${usd(d.arr_at_risk)} of ${usd(d.arr)}`,
    `*Renewal*\n${d.renewal_date ? `${d.renewal_date} (${d.days_to_renewal} days)` : "n/a"}`,
    `*CSM*\n${esc(d.csm_owner ?? "unassigned")}`,
    `*Top risk drivers*\n${esc(d.top_risk_drivers ? componentLabels(d.top_risk_drivers) : "none")}`,
  ];
  return {
    text: `${HEADLINE[e.type]}: ${esc(d.summary)}`,
    blocks: [
      {type: "header", text: {type: "plain_text", text: `${HEADLINE[e.type]}: ${d.company_name}`.slice(0, 150)}},
      {type: "section", text: {type: "mrkdwn", text: esc(d.summary)}},
      {type: "section", fields: fields.map((text) => ({type: "mrkdwn", text}))},
      ...(d.recommended_action
        ? [{type: "section", text: {type: "mrkdwn", text: `*Recommended action:* ${esc(d.recommended_action)}`}}]
        : []),
      {
        type: "context",
        elements: [
          {type: "mrkdwn", text: `SaaSGuard · ${esc(d.customer_id)} · as of ${d.as_of} · alert ${esc(d.alert_id)}`},
        ],
      },
    ],
  };
}

/** What the outbox delivers: a churn alert, or the executive brief's weekly digest (digest.ts). */
export type OutboxEvent = AlertEvent | DigestEvent;

/** The request body for a target's format. */
export function bodyFor(format: "slack" | "generic", e: OutboxEvent): string {
  if (isDigestEvent(e)) return JSON.stringify(format === "slack" ? slackDigestPayload(e) : e);
  return JSON.stringify(format === "slack" ? slackPayload(e) : e);
}
