import { guard } from "@scopeline/accounts"
import { AuditEvent, AuditRepo } from "@scopeline/events"
import { NotFound } from "@scopeline/ui/ApiError"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { AuditEventsQuery, filterOf } from "../AuditQuery.ts"
import type { AuditServices } from "./services.ts"

const encodeEvent = Schema.encodeSync(AuditEvent)
const IdParam = Schema.Struct({ id: Schema.String })
const EventsJson = Schema.Struct({ events: Schema.Array(AuditEvent), next_cursor: Schema.NullOr(Schema.String) })

/** An upload's story in the order it happened: its creating request, notify, parse and match. */
export const uploadStory = (uploadId: string) =>
  Effect.gen(function* () {
    const repo = yield* AuditRepo
    const events = yield* repo.story(uploadId, yield* repo.correlationsOf(uploadId))
    if (events.length === 0) return yield* new NotFound({ message: "This upload has no recorded history." })
    return events
  })

export const auditApiDocs = {
  events: documented({
    summary: "The audit log, newest first: security, business, system and delivery events",
    description: "Every filter is optional and they combine. Emails appear only as `actor.email_hash` (HMAC-SHA-256).",
    tag: "audit",
    access: "administer",
    query: AuditEventsQuery,
    responses: { 200: { description: "One page of events; `next_cursor` fetches the older ones.", schema: EventsJson } },
  }),
  uploadHistory: documented({
    summary: "One upload's story, oldest first",
    description: "Every event about the upload or sharing its correlation id: created, confirmed, parsed or rejected, calculated, dead-lettered, replayed.",
    tag: "audit",
    access: "view",
    params: IdParam,
    responses: { 200: { description: "The events in order.", schema: Schema.Struct({ events: Schema.Array(AuditEvent) }) } },
    errors: [404],
  }),
}

export const auditApi = (respond: Responder<AuditServices>) =>
  new Elysia({ name: "api.audit", prefix: "/v1" })
    .get(
      "/admin/audit-events",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "administer")
            const query = yield* decodeInput(AuditEventsQuery, "query")(queryParams(request))
            const page = yield* (yield* AuditRepo).list(filterOf(query), query.limit, Option.fromNullable(query.cursor))
            return json({ events: page.events.map((event) => encodeEvent(event)), next_cursor: Option.getOrNull(page.nextCursor) })
          }),
        ),
      { detail: auditApiDocs.events },
    )
    .get(
      "/uploads/:id/history",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const events = yield* uploadStory(params.id)
            return json({ events: events.map((event) => encodeEvent(event)) })
          }),
        ),
      { detail: auditApiDocs.uploadHistory },
    )
