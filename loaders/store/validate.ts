/**
 * Input checks of the operational store. The store checks every write itself (the API validates
 * too, but the nightly build and the CLI write here as well), collects every problem instead of
 * stopping at the first, and names the field of each, so a caller can show them all at once.
 */
import {config} from "../../src/rules/config.ts";
import {
  ACTOR_ROLES,
  ACTOR_VIAS,
  CTA_STATUSES,
  FEEDBACK_VERDICTS,
  RENEWAL_CALLS,
  StoreInputError,
  SUMMARY_AUDIENCES,
  SUMMARY_GENERATORS,
  SUMMARY_ID,
  SUMMARY_KINDS,
  type Actor,
  type CtaChange,
  type FeedbackVerdict,
  type InputProblem,
  type RenewalCallKind,
  type SummaryRecord,
} from "./types.ts";

/** longest CTA id, person name or CSM name: ids and names, never prose */
const MAX_NAME_CHARS = 200;
/** hours in a week: no capacity can exceed it */
const HOURS_IN_WEEK = 168;

const CHANGE_FIELDS = new Set<string>([
  "status",
  "snoozed_until",
  "status_reason",
  "note",
  "assignee",
  "priority_rank",
  "expected_version",
]);

const chars = (s: string) => [...s].length;
const isName = (v: unknown): v is string => typeof v === "string" && v.trim() !== "" && chars(v) <= MAX_NAME_CHARS;
const isWhole = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export const utcDate = (d: Date) => d.toISOString().slice(0, 10);

function addDays(date: string, days: number): string {
  return utcDate(new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000));
}

function isCalendarDate(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && addDays(v, 0) === v;
}

function actorProblems(actor: Actor): InputProblem[] {
  const problems: InputProblem[] = [];
  if (!isName(actor?.name))
    problems.push({field: "actor.name", message: `must be a name of 1–${MAX_NAME_CHARS} characters`});
  if (!ACTOR_ROLES.includes(actor?.role))
    problems.push({field: "actor.role", message: `must be one of ${ACTOR_ROLES.join(", ")}`});
  if (!ACTOR_VIAS.includes(actor?.via))
    problems.push({field: "actor.via", message: `must be one of ${ACTOR_VIAS.join(", ")}`});
  return problems;
}

/**
 * Checks a CTA change and returns it with its text trimmed. `now` decides "today" (UTC) for
 * the snooze window.
 */
export function checkCtaChange(ctaId: string, change: CtaChange, actor: Actor, now: Date): CtaChange {
  const work = config.ctaWork;
  const problems = actorProblems(actor);
  const add = (field: string, message: string) => problems.push({field, message});
  if (!isName(ctaId)) add("cta_id", `must be an id of 1–${MAX_NAME_CHARS} characters`);
  if (typeof change !== "object" || change === null) {
    add("change", "must be an object");
    throw new StoreInputError(problems);
  }
  for (const key of Object.keys(change)) if (!CHANGE_FIELDS.has(key)) add(key, "is not a field of a CTA change");
  const out: CtaChange = {};

  const {status} = change;
  if (status !== undefined && !CTA_STATUSES.includes(status))
    add("status", `must be one of ${CTA_STATUSES.join(", ")} (got ${JSON.stringify(status)})`);
  else if (status !== undefined) out.status = status;

  const until = change.snoozed_until;
  if (until !== undefined && until !== null) {
    const today = utcDate(now);
    const latest = addDays(today, work.snoozeMaxDays);
    if (status !== "snoozed") add("snoozed_until", 'goes only with status "snoozed"');
    else if (typeof until !== "string" || !isCalendarDate(until))
      add("snoozed_until", `must be a date YYYY-MM-DD (got ${JSON.stringify(until)})`);
    else if (until <= today) add("snoozed_until", `must be after today (${today})`);
    else if (until > latest)
      add("snoozed_until", `may be at most ${work.snoozeMaxDays} days ahead (${latest}; config.ctaWork.snoozeMaxDays)`);
    else out.snoozed_until = until;
  } else if (status === "snoozed") add("snoozed_until", "a snooze needs the date it ends (YYYY-MM-DD)");

  const reason = change.status_reason;
  const hasReason = reason !== undefined && reason !== null;
  if (hasReason && typeof reason !== "string") add("status_reason", "must be text");
  else if (hasReason && status !== "snoozed" && status !== "dismissed")
    add("status_reason", 'goes only with status "snoozed" or "dismissed"');
  else if (status === "snoozed") {
    if (!hasReason || reason.trim() === "") add("status_reason", "a snooze needs a reason");
    else if (chars(reason.trim()) > work.reasonMaxChars)
      add("status_reason", `may be at most ${work.reasonMaxChars} characters (config.ctaWork.reasonMaxChars)`);
    else out.status_reason = reason.trim();
  } else if (status === "dismissed") {
    const reasons: readonly string[] = work.dismissReasons;
    if (!hasReason || !reasons.includes(reason))
      add(
        "status_reason",
        `a dismissal needs one of the reasons ${reasons.join(", ")} (config.ctaWork.dismissReasons)`,
      );
    else out.status_reason = reason;
  }

  const {note} = change;
  if (note !== undefined) {
    if (typeof note !== "string" || note.trim() === "") add("note", "must be non-empty text");
    else if (chars(note.trim()) > work.noteMaxChars)
      add("note", `may be at most ${work.noteMaxChars} characters (config.ctaWork.noteMaxChars)`);
    else out.note = note.trim();
  }

  const {assignee} = change;
  if (assignee !== undefined) {
    if (assignee !== null && !isName(assignee))
      add("assignee", `must be a name of 1–${MAX_NAME_CHARS} characters, or null for the account owner`);
    else out.assignee = assignee === null ? null : assignee.trim();
  }

  if (change.priority_rank !== undefined) {
    if (!isWhole(change.priority_rank)) add("priority_rank", "must be a whole number ≥ 0");
    else out.priority_rank = change.priority_rank;
  }
  if (change.expected_version !== undefined) {
    if (!isWhole(change.expected_version)) add("expected_version", "must be a whole number ≥ 0");
    else out.expected_version = change.expected_version;
  }

  if (status === undefined && note === undefined && assignee === undefined)
    add("change", "says nothing to change: give a status, a note or an assignee");
  if (problems.length) throw new StoreInputError(problems);
  return out;
}

/** Checks a capacity override (null removes it). */
export function checkCapacity(csm: string, hoursPerWeek: number | null, actor: Actor): void {
  const problems = actorProblems(actor);
  if (!isName(csm)) problems.push({field: "csm", message: `must be a name of 1–${MAX_NAME_CHARS} characters`});
  if (
    hoursPerWeek !== null &&
    !(
      typeof hoursPerWeek === "number" &&
      Number.isFinite(hoursPerWeek) &&
      hoursPerWeek >= 0 &&
      hoursPerWeek <= HOURS_IN_WEEK
    )
  )
    problems.push({field: "hours_per_week", message: `must be a number of hours from 0 to ${HOURS_IN_WEEK}, or null`});
  if (problems.length) throw new StoreInputError(problems);
}

const isIsoTime = (v: unknown): v is string =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
const oneOf = (values: readonly string[], v: unknown): boolean => typeof v === "string" && values.includes(v);

/** Checks a summary record before it is stored; returns it with its time normalised to UTC. */
export function checkSummaryRecord(rec: SummaryRecord): SummaryRecord {
  const problems: InputProblem[] = [];
  const add = (field: string, message: string) => problems.push({field, message});
  if (typeof rec !== "object" || rec === null)
    throw new StoreInputError([{field: "record", message: "must be an object"}]);
  if (typeof rec.id !== "string" || !SUMMARY_ID.test(rec.id))
    add("id", "must be a summary id: sum_ and 24 hexadecimal characters");
  if (!oneOf(SUMMARY_KINDS, rec.kind)) add("kind", `must be one of ${SUMMARY_KINDS.join(", ")}`);
  if (!isName(rec.customer_id)) add("customer_id", `must be an id of 1–${MAX_NAME_CHARS} characters`);
  if (!oneOf(SUMMARY_AUDIENCES, rec.audience)) add("audience", `must be one of ${SUMMARY_AUDIENCES.join(", ")}`);
  if (!oneOf(SUMMARY_GENERATORS, rec.generator)) add("generator", `must be one of ${SUMMARY_GENERATORS.join(", ")}`);
  if (typeof rec.guardrail_passed !== "boolean") add("guardrail_passed", "must be true or false");
  if (typeof rec.flagged !== "boolean") add("flagged", "must be true or false");
  if (!isName(rec.data_version)) add("data_version", `must be a version of 1–${MAX_NAME_CHARS} characters`);
  if (!isIsoTime(rec.created_at)) add("created_at", `must be an ISO time (got ${JSON.stringify(rec.created_at)})`);
  if (!isName(rec.created_by)) add("created_by", `must be a name of 1–${MAX_NAME_CHARS} characters, or "anonymous"`);
  if (problems.length) throw new StoreInputError(problems);
  return {...rec, created_at: new Date(rec.created_at).toISOString(), created_by: rec.created_by.trim()};
}

/**
 * Checks a rating of a summary and returns it with its reason trimmed (blank → null). Only people
 * rate: the nightly build (role system) has no opinion on a summary.
 */
export function checkSummaryFeedback(
  summaryId: string,
  fb: {verdict: FeedbackVerdict; reason?: string | null},
  actor: Actor,
): {verdict: FeedbackVerdict; reason: string | null} {
  const max = config.assistant.feedbackReasonMaxChars;
  const problems = actorProblems(actor);
  const add = (field: string, message: string) => problems.push({field, message});
  if (actor?.role === "system")
    add("actor.role", "the build does not rate summaries: a person (csm, lead or admin) does");
  if (typeof summaryId !== "string" || !SUMMARY_ID.test(summaryId))
    add("summary_id", "must be a summary id: sum_ and 24 hexadecimal characters");
  if (typeof fb !== "object" || fb === null) {
    add("feedback", "must be an object");
    throw new StoreInputError(problems);
  }
  if (!oneOf(FEEDBACK_VERDICTS, fb.verdict))
    add("verdict", `must be one of ${FEEDBACK_VERDICTS.join(", ")} (got ${JSON.stringify(fb.verdict)?.slice(0, 40)})`);
  let reason: string | null = null;
  if (fb.reason !== undefined && fb.reason !== null) {
    if (typeof fb.reason !== "string") add("reason", "must be text, or null");
    else if (chars(fb.reason.trim()) > max)
      add("reason", `may be at most ${max} characters (config.assistant.feedbackReasonMaxChars)`);
    else reason = fb.reason.trim() || null;
  }
  if (problems.length) throw new StoreInputError(problems);
  return {verdict: fb.verdict, reason};
}

/** A `since` bound: a date YYYY-MM-DD (its start, UTC) or an ISO time, as an ISO time. */
export function checkSince(since: string | undefined): string | undefined {
  if (since === undefined) return undefined;
  if (typeof since === "string" && isCalendarDate(since)) return `${since}T00:00:00.000Z`;
  if (isIsoTime(since)) return new Date(since).toISOString();
  throw new StoreInputError([
    {field: "since", message: `must be a date YYYY-MM-DD or an ISO time (got ${JSON.stringify(since)})`},
  ]);
}

/** The longest note a renewal call may carry (characters). */
export const RENEWAL_NOTE_MAX_CHARS = 1000;

/** A renewal call as the store takes it: a person's, on a real date, one of RENEWAL_CALLS. */
export function checkRenewalCall(
  input: {customer_id: string; renewal_date: string; call: RenewalCallKind; note?: string | null},
  actor: Actor,
): {customer_id: string; renewal_date: string; call: RenewalCallKind; note: string | null} {
  const problems = actorProblems(actor);
  const add = (field: string, message: string) => problems.push({field, message});
  if (actor?.role === "system")
    add("actor.role", "the build does not call renewals: a person (csm, lead or admin) does");
  if (typeof input !== "object" || input === null) {
    add("call", "must be an object");
    throw new StoreInputError(problems);
  }
  if (!isName(input.customer_id)) add("customer_id", "must be a customer id");
  if (typeof input.renewal_date !== "string" || !isCalendarDate(input.renewal_date))
    add("renewal_date", "must be a date YYYY-MM-DD");
  if (!oneOf(RENEWAL_CALLS, input.call))
    add("call", `must be one of ${RENEWAL_CALLS.join(", ")} (got ${JSON.stringify(input.call)?.slice(0, 40)})`);
  let note: string | null = null;
  if (input.note !== undefined && input.note !== null) {
    if (typeof input.note !== "string") add("note", "must be text, or null");
    else if (chars(input.note.trim()) > RENEWAL_NOTE_MAX_CHARS)
      add("note", `may be at most ${RENEWAL_NOTE_MAX_CHARS} characters`);
    else note = input.note.trim() || null;
  }
  if (problems.length) throw new StoreInputError(problems);
  return {customer_id: input.customer_id, renewal_date: input.renewal_date, call: input.call, note};
}
