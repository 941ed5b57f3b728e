import { guard } from "@scopeline/accounts"
import { decodeInput, jsonBody, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { DeliveryNotFound, WebhookNotFound } from "../errors.ts"
import { type Delivery, type Webhook, WebhookId, WebhookRequest, Webhooks } from "../Webhooks.ts"
import type { WebhooksServices } from "./services.ts"

const WebhookJson = Schema.Struct({ id: Schema.String, url: Schema.String, events: Schema.Array(Schema.String), created_by: Schema.String, created_at: Schema.String })
const DeliveryJson = Schema.Struct({
  id: Schema.String,
  webhook_id: Schema.String,
  url: Schema.String,
  event_type: Schema.String,
  event_key: Schema.String,
  status: Schema.String,
  attempts: Schema.Number,
  last_status: Schema.NullOr(Schema.Number),
  last_error: Schema.NullOr(Schema.String),
  created_at: Schema.String,
  delivered_at: Schema.NullOr(Schema.String),
  replay_url: Schema.NullOr(Schema.String),
})
const IdParam = Schema.Struct({ id: Schema.String })
export const DeliveriesQuery = Schema.Struct({ status: Schema.optional(Schema.Literal("queued", "delivered", "dead")) })

export const webhookJson = (webhook: Webhook): typeof WebhookJson.Type => ({
  id: webhook.id,
  url: webhook.url,
  events: webhook.events,
  created_by: webhook.createdBy,
  created_at: webhook.createdAt.toISOString(),
})
export const deliveryJson = (delivery: Delivery): typeof DeliveryJson.Type => ({
  id: delivery.id,
  webhook_id: delivery.webhookId,
  url: delivery.url,
  event_type: delivery.eventType,
  event_key: delivery.eventKey,
  status: delivery.status,
  attempts: delivery.attempts,
  last_status: delivery.lastStatus,
  last_error: delivery.lastError,
  created_at: delivery.createdAt.toISOString(),
  delivered_at: delivery.deliveredAt?.toISOString() ?? null,
  replay_url: delivery.status === "dead" ? `/v1/admin/webhook-deliveries/${delivery.id}/replay` : null,
})

export const webhookIdOf = (id: string) =>
  Schema.decodeUnknown(WebhookId)(id).pipe(Effect.mapError(() => new WebhookNotFound({ message: "There is no webhook with this id." })))
export const deliveryIdOf = (id: string) =>
  Schema.decodeUnknown(Schema.UUID)(id).pipe(Effect.mapError(() => new DeliveryNotFound({ message: "There is no dead delivery with this id." })))

export const webhooksApiDocs = {
  create: documented({
    summary: "Add a webhook: where events are POSTed, signed with its secret (shown once)",
    description:
      "Each delivery carries `X-Scopeline-Timestamp` and `X-Scopeline-Signature: sha256=<hex HMAC-SHA-256 of \"<timestamp>.<body>\">`. Private, link-local and metadata addresses are refused (400), and loopback too in AWS mode.",
    tag: "webhooks",
    access: "administer",
    changes: true,
    body: WebhookRequest,
    responses: { 201: { description: "The webhook and its secret.", schema: Schema.Struct({ webhook: Schema.extend(WebhookJson, Schema.Struct({ secret: Schema.String })) }) } },
  }),
  list: documented({
    summary: "The webhooks (without their secrets)",
    tag: "webhooks",
    access: "administer",
    responses: { 200: { description: "Newest first.", schema: Schema.Struct({ webhooks: Schema.Array(WebhookJson) }) } },
  }),
  remove: documented({
    summary: "Delete a webhook; what was still waiting for it is not sent",
    tag: "webhooks",
    access: "administer",
    changes: true,
    params: IdParam,
    responses: { 204: { description: "Deleted." } },
    errors: [404],
  }),
  test: documented({
    summary: "Send a test delivery (`webhook.test`) to this webhook",
    tag: "webhooks",
    access: "administer",
    changes: true,
    params: IdParam,
    responses: { 202: { description: "Queued.", schema: Schema.Struct({ delivery: Schema.Struct({ id: Schema.String }) }) } },
    errors: [404],
  }),
  deliveries: documented({
    summary: "Recent deliveries, newest first; `status=dead` lists those whose last retry failed",
    tag: "webhooks",
    access: "operate",
    query: DeliveriesQuery,
    responses: { 200: { description: "Up to 100.", schema: Schema.Struct({ deliveries: Schema.Array(DeliveryJson) }) } },
  }),
  replay: documented({
    summary: "Replay a dead delivery from its first attempt",
    tag: "webhooks",
    access: "operate",
    changes: true,
    params: IdParam,
    responses: { 200: { description: "Queued again.", schema: Schema.Struct({ replayed: Schema.Struct({ id: Schema.String }) }) } },
    errors: [404],
  }),
}

export const webhooksApi = (respond: Responder<WebhooksServices>) =>
  new Elysia({ name: "api.webhooks", prefix: "/v1/admin" })
    .post(
      "/webhooks",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(WebhookRequest, "webhook")))
            const { webhook, secret } = yield* (yield* Webhooks).create(admin, body)
            return json({ webhook: { ...webhookJson(webhook), secret } }, 201)
          }),
        ),
      { parse: "none", detail: webhooksApiDocs.create },
    )
    .get(
      "/webhooks",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "administer")
            return json({ webhooks: (yield* (yield* Webhooks).list()).map(webhookJson) })
          }),
        ),
      { detail: webhooksApiDocs.list },
    )
    .delete(
      "/webhooks/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            yield* (yield* Webhooks).remove(admin, yield* webhookIdOf(params.id))
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: webhooksApiDocs.remove },
    )
    .post(
      "/webhooks/:id/test",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const id = yield* (yield* Webhooks).sendTest(admin, yield* webhookIdOf(params.id))
            return json({ delivery: { id } }, 202)
          }),
        ),
      { parse: "none", detail: webhooksApiDocs.test },
    )
    .get(
      "/webhook-deliveries",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "operate")
            const { status } = yield* decodeInput(DeliveriesQuery, "query")(queryParams(request))
            return json({ deliveries: (yield* (yield* Webhooks).deliveries(status)).map(deliveryJson) })
          }),
        ),
      { detail: webhooksApiDocs.deliveries },
    )
    .post(
      "/webhook-deliveries/:id/replay",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const by = yield* guard(request, "operate", "change")
            const id = yield* deliveryIdOf(params.id)
            yield* (yield* Webhooks).replay(by, id)
            return json({ replayed: { id } })
          }),
        ),
      { parse: "none", detail: webhooksApiDocs.replay },
    )
