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
  StoreInputError,
  type Actor,
  type CtaChange,
  type InputProblem,
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
