import { allActions, Category, EventCursor, type EventFilter } from "@scopeline/events"
import { isCalendarInstant, isUuidText, QueryInt } from "@scopeline/ui/decode"
import { Schema } from "effect"

// An object's id as the log records it: a UUID in lower case, as PostgreSQL writes it, whatever case was pasted.
const Id = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(200),
  Schema.pattern(/^[\w.:@-]+$/, { message: () => "is not an id" }),
  Schema.transform(Schema.String, { strict: true, decode: (id) => (isUuidText(id) ? id.toLowerCase() : id), encode: (id) => id }),
)
const Instant = Schema.String.pipe(
  Schema.pattern(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$/, {
    message: () => "must be an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z)",
  }),
  // The parser rolls 2026-02-30 over to 2 March and 24:00 to the next day: a filter means the day it names.
  Schema.filter((text) => isCalendarInstant(text) || "is not a real date and time"),
  Schema.compose(Schema.Date),
)

/** The query of GET /v1/admin/audit-events and of the /admin/audit page's filters. */
export const AuditEventsQuery = Schema.Struct({
  category: Schema.optional(Category),
  action: Schema.optional(
    // Typed as it reads ("Login_Succeeded", " logout "): actions are one spelling, lower case.
    Schema.compose(Schema.Trim, Schema.Lowercase).pipe(
      Schema.pattern(/^[a-z][a-z0-9_]{0,63}$/, { message: () => "is not an action name" }),
      // A misspelt action would find nothing and look like an empty log.
      Schema.filter((action) => (allActions as ReadonlyArray<string>).includes(action) || "is not an action the log records (docs/audit.md lists them)"),
    ),
  ),
  actor_id: Schema.optional(Schema.UUID),
  object_id: Schema.optional(Id),
  correlation_id: Schema.optional(Id),
  from: Schema.optional(Instant),
  to: Schema.optional(Instant),
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 200)), { default: () => 50 }),
  cursor: Schema.optional(EventCursor),
}).pipe(
  Schema.filter((query) =>
    query.from === undefined || query.to === undefined || query.from.getTime() <= query.to.getTime() || { path: ["to"], message: "is before from" },
  ),
)
export type AuditEventsQuery = typeof AuditEventsQuery.Type

export const filterOf = (query: AuditEventsQuery): EventFilter => ({
  ...(query.category === undefined ? {} : { category: query.category }),
  ...(query.action === undefined ? {} : { action: query.action }),
  ...(query.actor_id === undefined ? {} : { actorId: query.actor_id }),
  ...(query.object_id === undefined ? {} : { objectId: query.object_id }),
  ...(query.correlation_id === undefined ? {} : { correlationId: query.correlation_id }),
  ...(query.from === undefined ? {} : { from: query.from }),
  ...(query.to === undefined ? {} : { to: query.to }),
})
