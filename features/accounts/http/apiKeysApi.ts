import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { type ApiKey, ApiKeyId, ApiKeyRequest, ApiKeys } from "../ApiKeys.ts"
import { ApiKeyNotFound } from "../errors.ts"
import { guard } from "./guard.ts"
import type { AccountsServices } from "./services.ts"

const ApiKeyJson = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  prefix: Schema.String,
  scopes: Schema.Array(Schema.String),
  site_ids: Schema.NullOr(Schema.Array(Schema.String)),
  created_by: Schema.String,
  created_at: Schema.String,
  last_used_at: Schema.NullOr(Schema.String),
})

export const apiKeyJson = (key: ApiKey): typeof ApiKeyJson.Type => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  scopes: key.scopes,
  site_ids: key.siteIds,
  created_by: key.createdBy,
  created_at: key.createdAt.toISOString(),
  last_used_at: key.lastUsedAt?.toISOString() ?? null,
})

export const apiKeysApiDocs = {
  create: documented({
    summary: "Create an API key for a device or integration (the secret is shown once)",
    description: "Send it as `Authorization: Bearer <secret>`. A key may call only the routes its scopes allow (403 otherwise), and only for its `site_ids` when given.",
    tag: "team",
    access: "administer",
    changes: true,
    body: ApiKeyRequest,
    responses: { 201: { description: "The key, with its secret.", schema: Schema.Struct({ api_key: Schema.extend(ApiKeyJson, Schema.Struct({ secret: Schema.String })) }) } },
  }),
  list: documented({
    summary: "Active API keys, without their secrets",
    tag: "team",
    access: "administer",
    responses: { 200: { description: "Newest first.", schema: Schema.Struct({ api_keys: Schema.Array(ApiKeyJson) }) } },
  }),
  revoke: documented({
    summary: "Revoke an API key: it is refused (401) from its next request",
    tag: "team",
    access: "administer",
    changes: true,
    params: Schema.Struct({ id: Schema.String }),
    responses: { 204: { description: "Revoked." } },
    errors: [404],
  }),
}

/** A path id that is not a UUID names no key: 404, like an unknown one. */
export const apiKeyIdOf = (id: string) =>
  Schema.decodeUnknown(ApiKeyId)(id).pipe(Effect.mapError(() => new ApiKeyNotFound({ message: "There is no active API key with this id." })))

/** Machine clients: an admin creates, lists and revokes API keys. */
export const apiKeysApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.api-keys", prefix: "/v1/admin/api-keys" })
    .post(
      "/",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(ApiKeyRequest, "API key")))
            const { key, secret } = yield* (yield* ApiKeys).create(admin, body)
            return json({ api_key: { ...apiKeyJson(key), secret } }, 201)
          }),
        ),
      { parse: "none", detail: apiKeysApiDocs.create },
    )
    .get(
      "/",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "administer")
            const keys = yield* (yield* ApiKeys).list()
            return json({ api_keys: keys.map(apiKeyJson) })
          }),
        ),
      { detail: apiKeysApiDocs.list },
    )
    .delete(
      "/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const id = yield* apiKeyIdOf(params.id)
            yield* (yield* ApiKeys).revoke(admin, id)
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: apiKeysApiDocs.revoke },
    )
