import { SqlClient, SqlSchema } from "@effect/sql"
import type { Principal } from "@scopeline/accounts"
import { AuditLog } from "@scopeline/events"
import { CurrentCorrelationId } from "@scopeline/settings/Correlation"
import { Effect, FiberRef, Option, Schema } from "effect"
import { randomBytes } from "node:crypto"
import { DeliveryNotFound, WebhookNotFound } from "./errors.ts"
import { checkTarget } from "./TargetPolicy.ts"

/** The events a webhook can subscribe to; `webhook.test` is what "send test" sends. */
export const WebhookEventType = Schema.Literal("site.limit_warning", "site.limit_exceeded", "upload.calculated", "job.dead_lettered")
export type WebhookEventType = typeof WebhookEventType.Type

/** Repeats of one event (same webhook and key) within this window are delivered once. */
export const DEDUPE_WINDOW_MINUTES = 5

export const WebhookId = Schema.UUID.pipe(Schema.brand("WebhookId"))
export type WebhookId = typeof WebhookId.Type

/** Body of POST /v1/admin/webhooks. */
export const WebhookRequest = Schema.Struct({
  url: Schema.String.pipe(Schema.maxLength(2000)),
  events: Schema.Array(WebhookEventType).pipe(Schema.minItems(1)),
  secret: Schema.optional(Schema.String.pipe(Schema.minLength(16), Schema.maxLength(200))),
})
export type WebhookRequest = typeof WebhookRequest.Type

export class Webhook extends Schema.Class<Webhook>("Webhook")({
  id: WebhookId,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  createdBy: Schema.String,
  createdAt: Schema.DateFromSelf,
}) {}

export class Delivery extends Schema.Class<Delivery>("Delivery")({
  id: Schema.UUID,
  webhookId: Schema.String,
  url: Schema.String,
  eventType: Schema.String,
  eventKey: Schema.String,
  status: Schema.Literal("queued", "delivered", "dead"),
  attempts: Schema.Int,
  lastStatus: Schema.NullOr(Schema.Int),
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
  deliveredAt: Schema.NullOr(Schema.DateFromSelf),
}) {}

/** An event to deliver: its type, what makes repeats the same event, and its data. */
export interface WebhookEvent {
  readonly type: WebhookEventType | "webhook.test"
  readonly key: string
  readonly payload: Readonly<Record<string, unknown>>
}

const deliveryColumns = `d.id, d.webhook_id, w.url, d.event_type, d.event_key, d.status, d.attempts, d.last_status, d.last_error,
  d.created_at, d.delivered_at`

/**
 * Webhooks and their deliveries. `publish` joins the caller's transaction: the delivery is written
 * with the change it announces (the outbox of this channel), so no event is sent for a change that
 * rolled back and none is lost for one that committed. The workers send them (Delivery.ts).
 */
export class Webhooks extends Effect.Service<Webhooks>()("scopeline/Webhooks", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const audit = yield* AuditLog

    const active = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Webhook,
      execute: () => sql`SELECT id, url, events, created_by, created_at FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at DESC`,
    })
    const deliveries = SqlSchema.findAll({
      Request: Schema.Struct({ status: Schema.optional(Schema.String), limit: Schema.Int }),
      Result: Delivery,
      execute: ({ status, limit }) => sql`
        SELECT ${sql.literal(deliveryColumns)} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        ${status === undefined ? sql`` : sql`WHERE d.status = ${status}`}
        ORDER BY d.created_at DESC LIMIT ${limit}`,
    })

    /** Queues `event` for every webhook subscribed to it, once per webhook within the dedupe window. */
    const publish = Effect.fn("Webhooks.publish")(function* (event: WebhookEvent, only?: WebhookId) {
      const correlationId = Option.getOrNull(yield* FiberRef.get(CurrentCorrelationId))
      const targets = yield* sql<{ id: string }>`
        SELECT id FROM webhooks
        WHERE deleted_at IS NULL AND ${only === undefined ? sql`${event.type} = ANY(events)` : sql`id = ${only}`}`
      const queued: Array<string> = []
      for (const target of targets) {
        // Two transactions publishing the same event at once serialise here; the second sees the first.
        yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`webhook:${target.id}:${event.key}`}))`
        const id = crypto.randomUUID()
        const body = JSON.stringify({ id, type: event.type, created_at: new Date().toISOString(), data: event.payload })
        const inserted = yield* sql<{ id: string }>`
          INSERT INTO webhook_deliveries (id, webhook_id, event_type, event_key, body, correlation_id)
          SELECT ${id}, ${target.id}, ${event.type}, ${event.key}, ${body}, ${correlationId}
          WHERE NOT EXISTS (
            SELECT 1 FROM webhook_deliveries
            WHERE webhook_id = ${target.id} AND event_key = ${event.key}
              AND created_at > now() - make_interval(mins => ${DEDUPE_WINDOW_MINUTES}))
          RETURNING id`
        queued.push(...inserted.map((row) => row.id))
      }
      return queued
    }, Effect.orDie)

    const create = Effect.fn("Webhooks.create")(function* (by: Principal, request: WebhookRequest) {
      const url = yield* checkTarget(request.url)
      const secret = request.secret ?? `whsec_${randomBytes(24).toString("base64url")}`
      const webhook = yield* sql.withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ id: string }>`
            INSERT INTO webhooks (url, events, secret, created_by)
            VALUES (${url}, ${[...new Set(request.events)]}::text[], ${secret}, ${by.userId}) RETURNING id`
          yield* audit.record({
            category: "security",
            action: "webhook_created",
            actor: { userId: by.userId, role: by.role },
            object: { type: "webhook", id: row!.id },
            // Where alerts go, without the path or query: those often hold the receiver's own secret
            // (a token, a chat hook's key), which the log would keep for its whole retention.
            details: { target: new URL(url).origin, events: request.events },
          })
          const [webhook] = yield* sql`SELECT id, url, events, created_by, created_at FROM webhooks WHERE id = ${row!.id}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(Webhook))),
          )
          return webhook!
        }),
      ).pipe(Effect.orDie)
      return { webhook, secret }
    })

    const remove = Effect.fn("Webhooks.remove")(function* (by: Principal, id: WebhookId) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql<{ url: string }>`UPDATE webhooks SET deleted_at = now() WHERE id = ${id} AND deleted_at IS NULL RETURNING url`.pipe(Effect.orDie)
          const [deleted] = rows
          if (deleted === undefined) return yield* new WebhookNotFound({ message: "There is no webhook with this id." })
          // What was still waiting is not sent to a webhook that no longer exists.
          const cancelled = yield* sql`
            UPDATE webhook_deliveries SET status = 'dead', last_error = 'the webhook was deleted' WHERE webhook_id = ${id} AND status = 'queued' RETURNING 1`.pipe(
            Effect.orDie,
          )
          yield* audit.record({
            category: "security",
            action: "webhook_deleted",
            actor: { userId: by.userId, role: by.role },
            object: { type: "webhook", id },
            details: { target: new URL(deleted.url).origin, deliveries_cancelled: cancelled.length },
          })
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    /** "Send test": one `webhook.test` delivery to this webhook, whatever it subscribes to. */
    const sendTest = Effect.fn("Webhooks.sendTest")(function* (by: Principal, id: WebhookId) {
      const notFound = new WebhookNotFound({ message: "There is no webhook with this id." })
      const [delivery] = yield* sql.withTransaction(
        Effect.gen(function* () {
          const queued = yield* publish({ type: "webhook.test", key: `test:${crypto.randomUUID()}`, payload: { message: "A test delivery from Scopeline.", requested_by: by.userId } }, id)
          // Nothing queued: the webhook does not exist, or was deleted a moment ago.
          if (queued.length === 0) return yield* notFound
          yield* audit.record({
            category: "security",
            action: "webhook_test_sent",
            actor: { userId: by.userId, role: by.role },
            object: { type: "webhook", id },
            details: { delivery_id: queued[0] },
          })
          return queued
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
      return delivery!
    })

    /** Puts a dead delivery back in the queue, from its first attempt. */
    const replay = Effect.fn("Webhooks.replay")(function* (by: Principal, id: string) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql`
            UPDATE webhook_deliveries d SET status = 'queued', attempts = 0, next_attempt_at = now(), last_error = NULL
            FROM webhooks w
            WHERE d.id = ${id}::uuid AND d.status = 'dead' AND w.id = d.webhook_id AND w.deleted_at IS NULL
            RETURNING d.id`.pipe(Effect.orDie)
          if (rows.length === 0) return yield* new DeliveryNotFound({ message: "There is no dead delivery with this id (it may have been replayed already)." })
          yield* audit.record({
            category: "system",
            action: "webhook_delivery_replayed",
            actor: { userId: by.userId, role: by.role },
            object: { type: "webhook_delivery", id },
          })
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    return {
      publish,
      create,
      remove,
      sendTest,
      replay,
      list: () => active(undefined).pipe(Effect.orDie),
      deliveries: (status: "queued" | "delivered" | "dead" | undefined, limit = 100) =>
        deliveries({ ...(status === undefined ? {} : { status }), limit }).pipe(Effect.orDie),
    }
  }),
}) {}
