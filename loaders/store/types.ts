/**
 * The operational store's interface: what people change during the day (CTA states, notes,
 * assignments, capacity overrides) and the audit log of every such write. The warehouse is
 * rebuilt every night and read-only for the API; this store is the writable side beside it.
 * The shape is the shared contract of issue #15: the API, the nightly build and the pages all
 * code against it, on SQLite and on PostgreSQL alike.
 */

export const CTA_STATUSES = ["open", "in_progress", "done", "snoozed", "dismissed"] as const;
export type CtaWorkStatus = (typeof CTA_STATUSES)[number];
export const ACTOR_ROLES = ["csm", "lead", "admin", "system"] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];
export const ACTOR_VIAS = ["api_key", "proxy", "build", "cli"] as const;
export interface Actor {
  name: string;
  role: ActorRole;
  via: (typeof ACTOR_VIAS)[number];
}

export interface CtaState {
  cta_id: string;
  status: CtaWorkStatus;
  /** YYYY-MM-DD */
  snoozed_until: string | null;
  /** the snooze/dismiss reason */
  status_reason: string | null;
  /** null = the account owner */
  assignee: string | null;
  /** the CTA's priority rank when status last changed (re-fire rule) */
  priority_rank_at_change: number | null;
  /** ISO time of the first human write on this CTA */
  first_action_at: string | null;
  /** ISO time */
  updated_at: string;
  updated_by: string;
  /**
   * optimistic concurrency: 1 after the first write, +1 on every write. A CTA nobody has
   * worked has no stored state; `expected_version: 0` asserts exactly that.
   */
  version: number;
}

export interface CtaChange {
  status?: CtaWorkStatus;
  snoozed_until?: string | null;
  status_reason?: string | null;
  note?: string;
  assignee?: string | null;
  priority_rank?: number;
  expected_version?: number;
}

/** what an audit row is about, and what was done (the database CHECKs the same lists: migrations.ts) */
export const AUDIT_ENTITIES = ["cta", "capacity", "summary"] as const;
export const AUDIT_ACTIONS = ["status", "note", "assign", "capacity", "feedback"] as const;

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: ActorRole;
  via: Actor["via"];
  entity: (typeof AUDIT_ENTITIES)[number];
  entity_id: string;
  action: (typeof AUDIT_ACTIONS)[number];
  /** e.g. {from:"open", to:"snoozed", until:"…", reason:"…"}, {text:"…"} */
  detail: Record<string, unknown>;
}

export interface CapacityOverride {
  csm: string;
  hours_per_week: number;
  updated_at: string;
  updated_by: string;
}

/**
 * The CSM's assistant (issue #18): every summary or answer it gives is recorded, so the people who
 * read it can say whether it was right, and the accuracy the rollout plan targets can be measured
 * per week, per generator and per audience.
 */
export const SUMMARY_AUDIENCES = ["csm", "executive"] as const;
/** a brief, or an answer to a question */
export const SUMMARY_KINDS = ["summary", "answer"] as const;
export const SUMMARY_GENERATORS = ["llm", "builtin"] as const;
export const FEEDBACK_VERDICTS = ["accurate", "inaccurate"] as const;
export type SummaryAudience = (typeof SUMMARY_AUDIENCES)[number];
export type SummaryGenerator = (typeof SUMMARY_GENERATORS)[number];
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];
/** a summary's id: `sum_` and 24 lowercase hexadecimal characters */
export const SUMMARY_ID = /^sum_[0-9a-f]{24}$/;

export interface SummaryRecord {
  id: string;
  kind: (typeof SUMMARY_KINDS)[number];
  customer_id: string;
  audience: SummaryAudience;
  generator: SummaryGenerator;
  /**
   * the LLM answer passed every guardrail (built-in text with no LLM configured counts as passed;
   * a built-in fallback after a failed LLM answer does not)
   */
  guardrail_passed: boolean;
  flagged: boolean;
  data_version: string;
  /** ISO time */
  created_at: string;
  /** the actor's name, or "anonymous" */
  created_by: string;
}

/** One person's rating of one summary; rating it again replaces it. */
export interface SummaryFeedback {
  summary_id: string;
  verdict: FeedbackVerdict;
  /** free text, already free of PII (the API sanitises it before it reaches the store) */
  reason: string | null;
  actor: string;
  role: ActorRole;
  /** ISO time of this rating */
  at: string;
}

/**
 * Per ISO week (its Monday, UTC) of the summaries' creation × generator × audience: summaries
 * made, how many passed the guardrails, and the ratings they received (one per person), of which
 * accurate. A rating given later counts in the week its summary was made.
 */
export interface AssistantQualityRow {
  /** YYYY-MM-DD, a Monday */
  week: string;
  generator: SummaryGenerator;
  audience: SummaryAudience;
  made: number;
  guardrail_passed: number;
  rated: number;
  accurate: number;
}

/**
 * A CSM's call on an account's renewal (issue #17): the forecast shows it beside the model's
 * view. Calls are never edited: a newer call on the same renewal supersedes the older, and the
 * older stays as the record of who called what and when.
 */
export const RENEWAL_CALLS = ["commit", "likely", "at_risk", "lost"] as const;
export type RenewalCallKind = (typeof RENEWAL_CALLS)[number];
export interface RenewalCall {
  id: number;
  customer_id: string;
  /** the renewal the call is about, YYYY-MM-DD */
  renewal_date: string;
  call: RenewalCallKind;
  note: string | null;
  actor: string;
  role: ActorRole;
  /** ISO time */
  at: string;
}

export interface OperationalStore {
  readonly kind: "sqlite" | "postgres";
  /** versioned migrations, returns those applied now */
  migrate(): Promise<string[]>;
  ctaStates(ids?: readonly string[]): Promise<CtaState[]>;
  /** states written after `since` (an ISO time; null = all): what changed since the build read the store */
  ctaStatesChangedSince(since: string | null): Promise<CtaState[]>;
  applyCtaChange(
    ctaId: string,
    change: CtaChange,
    actor: Actor,
    now?: Date,
  ): Promise<{state: CtaState; audit: AuditEntry[]}>;
  /** oldest first */
  timeline(ctaId: string): Promise<AuditEntry[]>;
  /** oldest first; `since` (an ISO time) keeps entries at or after it */
  audit(opts?: {since?: string; limit?: number}): Promise<AuditEntry[]>;
  /** null removes the override */
  setCapacity(csm: string, hoursPerWeek: number | null, actor: Actor): Promise<void>;
  capacityOverrides(): Promise<CapacityOverride[]>;
  /** records a summary or answer the assistant gave; recording the same id again keeps the first */
  recordSummary(rec: SummaryRecord): Promise<void>;
  summaryRecord(id: string): Promise<SummaryRecord | null>;
  /**
   * one rating per person per summary; rating again replaces it (audited). Throws
   * StoreNotFoundError for an unknown summary, StoreInputError for bad input.
   */
  addSummaryFeedback(
    summaryId: string,
    fb: {verdict: FeedbackVerdict; reason?: string | null},
    actor: Actor,
    now?: Date,
  ): Promise<SummaryFeedback>;
  /** per ISO week × generator × audience, oldest week first; `since` (a date or ISO time) keeps summaries made at or after it */
  assistantQuality(opts?: {since?: string}): Promise<AssistantQualityRow[]>;
  /** records a person's call on a renewal; throws StoreInputError for bad input */
  recordRenewalCall(
    input: {customer_id: string; renewal_date: string; call: RenewalCallKind; note?: string | null},
    actor: Actor,
    now?: Date,
  ): Promise<RenewalCall>;
  /** the latest call on each (account, renewal), of the given accounts (all when omitted) */
  latestRenewalCalls(customerIds?: readonly string[]): Promise<RenewalCall[]>;
  /** every call on an account's renewals, oldest first */
  renewalCallHistory(customerId: string): Promise<RenewalCall[]>;
  close(): Promise<void>;
}

export interface InputProblem {
  /** the field of the change (or `actor.name`, `cta_id`, …) that is wrong */
  field: string;
  message: string;
}

/** A write refused because of its input (the API answers 400/422 with the problems). */
export class StoreInputError extends Error {
  constructor(readonly problems: InputProblem[]) {
    super(`operational store: bad input: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`);
    this.name = "StoreInputError";
  }
}

/** A write made against a version that is no longer current (the API answers 409). */
export class StoreConflictError extends Error {
  constructor(
    readonly ctaId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      `operational store: CTA ${ctaId} is at version ${currentVersion}, the change expected ${expectedVersion}: reload it and try again`,
    );
    this.name = "StoreConflictError";
  }
}

/** A write about something the store does not hold (the API answers 404). */
export class StoreNotFoundError extends Error {
  constructor(
    readonly entity: "summary",
    readonly id: string,
  ) {
    super(`operational store: no ${entity} with id ${id}`);
    this.name = "StoreNotFoundError";
  }
}

/** SAASGUARD_STORE (or openStore's argument) names no store we can open. */
export class StoreSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreSettingError";
  }
}
