import { Schema } from "effect"

/**
 * The event vocabulary, declared once: every action belongs to exactly one category, and the writer
 * refuses an action that is not registered here or is recorded under another category. Features add
 * their actions here as they add the changes those actions describe.
 */
export const actionsByCategory = {
  security: [
    "login_succeeded",
    "login_failed",
    "login_locked",
    "logout",
    "token_rejected",
    "permission_denied",
    "invitation_created",
    "invitation_accepted",
    "invitation_revoked",
    "role_changed",
    "user_deactivated",
    "user_reactivated",
    "user_deleted",
    "profile_updated",
    "password_changed",
    "api_key_created",
    "api_key_revoked",
    "webhook_created",
    "webhook_deleted",
    "webhook_test_sent",
  ],
  business: [
    "upload_created",
    "upload_confirmed",
    "upload_parsed",
    "upload_rejected",
    "upload_calculated",
    "site_created",
    "site_updated",
    "measurements_recorded",
    "site_limit_warning",
    "site_limit_exceeded",
    "export_requested",
    "export_downloaded",
    "export_completed",
    "recalculation_applied",
    "match_decided",
    "match_rematched",
  ],
  system: [
    "job_dead_lettered",
    "dead_letter_replayed",
    "matcher_circuit_opened",
    "matcher_circuit_closed",
    "audit_events_expired",
    "webhook_dead_lettered",
    "webhook_delivery_replayed",
  ],
  delivery: ["release_started"],
} as const

export const Category = Schema.Literal("business", "system", "delivery", "security")
export type Category = typeof Category.Type

export type ActionOf<C extends Category> = (typeof actionsByCategory)[C][number]
export type Action = ActionOf<Category>

export const allActions: ReadonlyArray<Action> = Object.values(actionsByCategory).flat()

export const isRegistered = (category: string, action: string): boolean =>
  Object.hasOwn(actionsByCategory, category) &&
  (actionsByCategory[category as Category] as ReadonlyArray<string>).includes(action)

export const OutcomeStatus = Schema.Literal("success", "failure", "pending")

/** Bumped when the stored shape changes; readers keep understanding every earlier version. */
export const SCHEMA_VERSION = 1

const OptionalString = Schema.optionalWith(Schema.String, { exact: true })

/**
 * One event, exactly as stored and as the API returns it (snake_case, timestamps as ISO 8601 UTC).
 * Who (`actor`), what (`category`, `action`, `object`), how it ended (`outcome`), which story it
 * belongs to (`correlation`), where it happened (`context`).
 */
export const AuditEvent = Schema.Struct({
  event_id: Schema.UUID,
  timestamp: Schema.Date,
  category: Category,
  action: Schema.String,
  actor: Schema.Struct({
    user_id: OptionalString,
    email_hash: OptionalString,
    role: OptionalString,
    service: OptionalString,
  }),
  object: Schema.Struct({ type: Schema.String, id: Schema.String }),
  correlation: Schema.Struct({
    correlation_id: Schema.String,
    trace_id: OptionalString,
    parent_event_id: OptionalString,
  }),
  outcome: Schema.Struct({
    status: OutcomeStatus,
    error_code: OptionalString,
    message: OptionalString,
  }),
  context: Schema.Struct({ environment: Schema.String, service: Schema.String, version: Schema.String }),
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  schema_version: Schema.Int,
})
export type AuditEvent = typeof AuditEvent.Type

/** Who did it, as the writer is told: an email is hashed before anything is stored. */
export interface ActorInput {
  readonly userId?: string
  readonly email?: string
  readonly role?: string
  /** A process acting on its own (a worker job, a scheduled task), not a person. */
  readonly service?: string
}

/** What a feature hands the writer; the writer adds the id, time, context and correlation. */
export interface EventInput<C extends Category = Category> {
  readonly category: C
  readonly action: ActionOf<C>
  readonly actor: ActorInput
  readonly object: { readonly type: string; readonly id: string }
  readonly outcome?: { readonly status: typeof OutcomeStatus.Type; readonly errorCode?: string; readonly message?: string }
  readonly details?: Readonly<Record<string, unknown>>
  /** Defaults to the correlation id of the work in progress (the request's, or the job's). */
  readonly correlationId?: string
  readonly parentEventId?: string
  /** Defaults to now; an event recorded later keeps the time it happened. */
  readonly timestamp?: Date
}

/** An input whose action belongs to its category: a mismatch is a type error, and the writer checks again at run time. */
export type AnyEventInput = { readonly [C in Category]: EventInput<C> }[Category]
