import { SqlClient } from "@effect/sql"
import { Effect, Option, ParseResult, Schema } from "effect"
import { AuditEvent, Category } from "./AuditEvent.ts"

/** A stored row; JSON columns are read as text because the client would rename keys inside them. */
const Row = Schema.Struct({
  seq: Schema.NumberFromString,
  eventId: Schema.UUID,
  occurredAt: Schema.DateFromSelf,
  category: Category,
  action: Schema.String,
  actorUserId: Schema.NullOr(Schema.String),
  actorEmailHash: Schema.NullOr(Schema.String),
  actorRole: Schema.NullOr(Schema.String),
  actorService: Schema.NullOr(Schema.String),
  objectType: Schema.String,
  objectId: Schema.String,
  correlationId: Schema.String,
  traceId: Schema.NullOr(Schema.String),
  parentEventId: Schema.NullOr(Schema.String),
  outcomeStatus: AuditEvent.fields.outcome.fields.status,
  outcomeErrorCode: Schema.NullOr(Schema.String),
  outcomeMessage: Schema.NullOr(Schema.String),
  contextJson: Schema.parseJson(AuditEvent.fields.context),
  detailsJson: Schema.parseJson(AuditEvent.fields.details),
  schemaVersion: Schema.Int,
})
type Row = typeof Row.Type

const present = <K extends string>(key: K, value: string | null): { [P in K]?: string } =>
  (value === null ? {} : { [key]: value }) as { [P in K]?: string }

const toEvent = (row: Row): AuditEvent => ({
  event_id: row.eventId,
  timestamp: row.occurredAt,
  category: row.category,
  action: row.action,
  actor: {
    ...present("user_id", row.actorUserId),
    ...present("email_hash", row.actorEmailHash),
    ...present("role", row.actorRole),
    ...present("service", row.actorService),
  },
  object: { type: row.objectType, id: row.objectId },
  correlation: {
    correlation_id: row.correlationId,
    ...present("trace_id", row.traceId),
    ...present("parent_event_id", row.parentEventId),
  },
  outcome: {
    status: row.outcomeStatus,
    ...present("error_code", row.outcomeErrorCode),
    ...present("message", row.outcomeMessage),
  },
  context: row.contextJson,
  details: row.detailsJson,
  schema_version: row.schemaVersion,
})

/** The filters of GET /v1/admin/audit-events; every one optional, all of them combined. */
export interface EventFilter {
  readonly category?: Category
  readonly action?: string
  readonly actorId?: string
  readonly objectId?: string
  readonly correlationId?: string
  readonly from?: Date
  readonly to?: Date
}

/** The opaque cursor of the newest-first listing: base64url of the last event's position in the log. */
export const EventCursor = Schema.transformOrFail(Schema.String, Schema.BigIntFromSelf, {
  strict: true,
  decode: (text, _, ast) => {
    const decoded = /^[\w-]{1,32}$/.test(text) ? Buffer.from(text, "base64url").toString("utf8") : ""
    return /^[1-9]\d{0,17}$/.test(decoded)
      ? ParseResult.succeed(BigInt(decoded))
      : ParseResult.fail(new ParseResult.Type(ast, text, "is not a cursor this server issued"))
  },
  encode: (seq) => ParseResult.succeed(Buffer.from(seq.toString(), "utf8").toString("base64url")),
})

// `seq` is read as text (a bigint may pass 2^53); ORDER BY names the column, not this text alias.
const columns = `seq::text AS seq, event_id, occurred_at, category, action, actor_user_id, actor_email_hash, actor_role,
  actor_service, object_type, object_id, correlation_id, trace_id, parent_event_id::text AS parent_event_id,
  outcome_status, outcome_error_code, outcome_message, context::text AS context_json, details::text AS details_json,
  schema_version`

const encodeEvent = Schema.encodeSync(AuditEvent)

/** An event as audit_events_append takes it: its encoded JSON (timestamps as ISO 8601 UTC). */
export const eventJson = (event: AuditEvent): string => JSON.stringify(encodeEvent(event))

/** The append-only store of audit events: insert and read, nothing else (the table refuses the rest). */
export class AuditRepo extends Effect.Service<AuditRepo>()("scopeline/AuditRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // One mapping of an event to its row, in the database (migration 0055), shared with the statements
    // that write their own event (measurements_record).
    const insert = (event: AuditEvent) => sql`SELECT audit_events_append(${eventJson(event)}::jsonb)`

    const page = (filter: EventFilter, limit: number, before: Option.Option<bigint>) => {
      const conditions = [
        ...(filter.category === undefined ? [] : [sql`category = ${filter.category}`]),
        ...(filter.action === undefined ? [] : [sql`action = ${filter.action}`]),
        ...(filter.actorId === undefined ? [] : [sql`actor_user_id = ${filter.actorId}::uuid`]),
        ...(filter.objectId === undefined ? [] : [sql`object_id = ${filter.objectId}`]),
        ...(filter.correlationId === undefined ? [] : [sql`correlation_id = ${filter.correlationId}`]),
        ...(filter.from === undefined ? [] : [sql`occurred_at >= ${filter.from}`]),
        ...(filter.to === undefined ? [] : [sql`occurred_at < ${filter.to}`]),
        ...(Option.isNone(before) ? [] : [sql`seq < ${before.value.toString()}::bigint`]),
      ]
      return sql`SELECT ${sql.literal(columns)} FROM audit_events
        ${conditions.length === 0 ? sql`` : sql`WHERE ${sql.and(conditions)}`}
        ORDER BY audit_events.seq DESC LIMIT ${limit + 1}`
    }
    const decodeRows = Schema.decodeUnknown(Schema.Array(Row))

    /** Newest first; `nextCursor` is present when older events remain. */
    const list = Effect.fn("AuditRepo.list")(function* (filter: EventFilter, limit: number, cursor: Option.Option<bigint>) {
      const rows = yield* page(filter, limit, cursor).pipe(Effect.flatMap(decodeRows), Effect.orDie)
      const shown = rows.slice(0, limit)
      const last = shown.at(-1)
      return {
        events: shown.map(toEvent),
        nextCursor: rows.length > limit && last ? Option.some(Schema.encodeSync(EventCursor)(BigInt(last.seq))) : Option.none<string>(),
      }
    })

    /** One story in the order it happened: every event of a correlation id or about one object. */
    const story = Effect.fn("AuditRepo.story")(function* (objectId: string, correlationIds: ReadonlyArray<string>) {
      const rows = yield* sql`SELECT ${sql.literal(columns)} FROM audit_events
        WHERE object_id = ${objectId} ${correlationIds.length === 0 ? sql`` : sql`OR correlation_id IN ${sql.in(correlationIds)}`}
        ORDER BY audit_events.occurred_at, audit_events.seq LIMIT 1000`.pipe(Effect.flatMap(decodeRows), Effect.orDie)
      return rows.map(toEvent)
    })

    const correlationsOf = Effect.fn("AuditRepo.correlationsOf")(function* (objectId: string) {
      const rows = yield* sql<{ correlationId: string }>`
        SELECT DISTINCT correlation_id FROM audit_events WHERE object_id = ${objectId} LIMIT 20`.pipe(Effect.orDie)
      return rows.map((row) => row.correlationId)
    })

    return {
      insert: (event: AuditEvent) => insert(event).pipe(Effect.asVoid, Effect.orDie),
      list,
      story,
      correlationsOf,
    }
  }),
}) {}
