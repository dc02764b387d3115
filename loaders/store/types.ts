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

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  role: ActorRole;
  via: Actor["via"];
  entity: "cta" | "capacity";
  entity_id: string;
  action: "status" | "note" | "assign" | "capacity";
  /** e.g. {from:"open", to:"snoozed", until:"…", reason:"…"}, {text:"…"} */
  detail: Record<string, unknown>;
}

export interface CapacityOverride {
  csm: string;
  hours_per_week: number;
  updated_at: string;
  updated_by: string;
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

/** SAASGUARD_STORE (or openStore's argument) names no store we can open. */
export class StoreSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreSettingError";
  }
}
