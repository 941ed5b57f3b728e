import { SqlClient, SqlSchema } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Forbidden } from "@scopeline/ui/ApiError"
import { Effect, Option, Schema } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { ApiKeyNotFound, ApiKeySitesUnknown } from "./errors.ts"
import type { Principal } from "./User.ts"

/** What a key may be allowed to do; each scope is checked by the one route family that needs it. */
export const ApiKeyScope = Schema.Literal("measurements:write")
export type ApiKeyScope = typeof ApiKeyScope.Type

export const ApiKeyId = Schema.UUID.pipe(Schema.brand("ApiKeyId"))
export type ApiKeyId = typeof ApiKeyId.Type

/** Every key starts with this, so a leaked one is recognisable (and secret scanners can match it). */
export const API_KEY_PREFIX = "slk_"

export const isApiKey = (token: string) => token.startsWith(API_KEY_PREFIX)

/** Body of POST /v1/admin/api-keys. */
export const ApiKeyRequest = Schema.Struct({
  name: Schema.String.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(100)),
  scopes: Schema.Array(ApiKeyScope).pipe(Schema.minItems(1)),
  site_ids: Schema.optional(Schema.Array(Schema.UUID).pipe(Schema.maxItems(1000))),
})
export type ApiKeyRequest = typeof ApiKeyRequest.Type

export class ApiKey extends Schema.Class<ApiKey>("ApiKey")({
  id: ApiKeyId,
  name: Schema.String,
  prefix: Schema.String,
  scopes: Schema.Array(Schema.String),
  siteIds: Schema.NullOr(Schema.Array(Schema.String)),
  createdBy: Schema.String,
  createdAt: Schema.DateFromSelf,
  lastUsedAt: Schema.NullOr(Schema.DateFromSelf),
}) {}

/** A machine caller, authenticated by its key: what it may do, and how the audit log names it. */
export interface KeyCaller {
  readonly _tag: "ApiKey"
  readonly key: ApiKey
}

/** The audit log's actor for a key: the service `api-key:<id>` (the key's id, never its secret). */
export const keyActor = (key: ApiKey) => ({ service: `api-key:${key.id}` })

const hashOf = (secret: string) => createHash("sha256").update(secret).digest("hex")
const columns = "id, name, prefix, scopes, site_ids, created_by, created_at, last_used_at"
/** A key's use mark is written at most once a minute: it tells an admin the key is in use, not each call. */
const USE_MARK_DUE = "(last_used_at IS NULL OR last_used_at < now() - interval '1 minute')"

export class ApiKeys extends Effect.Service<ApiKeys>()("scopeline/ApiKeys", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const audit = yield* AuditLog

    // The key and whether its use mark is due, by the database's clock (the one that writes the mark):
    // a device sends many batches a minute, and a recent mark then costs no statement at all (it was
    // a second round trip on every call). The UPDATE keeps its own guard, so racing calls write once.
    const byHash = SqlSchema.findOne({
      Request: Schema.String,
      Result: Schema.Struct({ ...ApiKey.fields, useMarkDue: Schema.Boolean }),
      execute: (hash) => sql`SELECT ${sql.literal(columns)}, ${sql.literal(USE_MARK_DUE)} AS use_mark_due
        FROM api_keys WHERE secret_hash = ${hash} AND revoked_at IS NULL`,
    })
    const active = SqlSchema.findAll({
      Request: Schema.Void,
      Result: ApiKey,
      execute: () => sql`SELECT ${sql.literal(columns)} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at DESC`,
    })

    // The sites a key can be limited to, for the form that creates one. The key keeps only their ids
    // (sites are their own feature, which builds on this one).
    const siteChoices = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Schema.Struct({ id: Schema.String, code: Schema.String, name: Schema.String }),
      execute: () => sql`SELECT id::text AS id, code, name FROM sites ORDER BY code`,
    })

    const create = Effect.fn("ApiKeys.create")(function* (by: Principal, request: ApiKeyRequest) {
      // 32 random bytes: a key cannot be guessed, so a fast hash is enough to store it.
      const secret = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`
      const siteIds = request.site_ids === undefined ? null : [...new Set(request.site_ids.map((id) => id.toLowerCase()))]
      if (siteIds !== null && siteIds.length === 0) {
        return yield* new ApiKeySitesUnknown({
          message: "The list of sites is empty: leave it out for a key that may send to every site.",
          details: { site_ids: [] },
        })
      }
      if (siteIds !== null) {
        const found = new Set(
          (yield* sql<{ id: string }>`SELECT id::text AS id FROM sites WHERE id = ANY(${siteIds}::uuid[])`.pipe(Effect.orDie)).map((row) => row.id),
        )
        const unknown = siteIds.filter((id) => !found.has(id))
        if (unknown.length > 0) {
          return yield* new ApiKeySitesUnknown({
            message: `No site has the id ${unknown.join(", ")}: give the ids of existing sites. Nothing was created.`,
            details: { unknown_site_ids: unknown },
          })
        }
      }
      const key = yield* sql.withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ id: string }>`
            INSERT INTO api_keys (name, prefix, secret_hash, scopes, site_ids, created_by)
            VALUES (${request.name}, ${secret.slice(0, API_KEY_PREFIX.length + 6)}, ${hashOf(secret)}, ${[...new Set(request.scopes)]}::text[],
              ${siteIds}::uuid[], ${by.userId})
            RETURNING id`
          yield* audit.record({
            category: "security",
            action: "api_key_created",
            actor: { userId: by.userId, role: by.role },
            object: { type: "api_key", id: row!.id },
            details: { name: request.name, scopes: request.scopes, site_ids: siteIds },
          })
          const [created] = yield* sql`SELECT ${sql.literal(columns)} FROM api_keys WHERE id = ${row!.id}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(ApiKey))),
          )
          return created!
        }),
      ).pipe(Effect.orDie)
      return { key, secret }
    })

    const revoke = Effect.fn("ApiKeys.revoke")(function* (by: Principal, id: ApiKeyId) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const rows = yield* sql<{ name: string; prefix: string }>`
            UPDATE api_keys SET revoked_at = now() WHERE id = ${id} AND revoked_at IS NULL RETURNING name, prefix`.pipe(Effect.orDie)
          const [revoked] = rows
          if (revoked === undefined) return yield* new ApiKeyNotFound({ message: "There is no active API key with this id." })
          yield* audit.record({
            category: "security",
            action: "api_key_revoked",
            actor: { userId: by.userId, role: by.role },
            object: { type: "api_key", id },
            // Which key, as the admin knew it: its name and the prefix devices were configured with.
            details: { name: revoked.name, key_prefix: revoked.prefix },
          })
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    /** The key behind a bearer secret, if it is one of ours and not revoked. Marks it used (at most once a minute). */
    const authenticate = Effect.fn("ApiKeys.authenticate")(function* (secret: string) {
      const found = yield* byHash(hashOf(secret)).pipe(Effect.orDie)
      if (Option.isNone(found)) return Option.none<ApiKey>()
      const { useMarkDue, ...key } = found.value
      if (useMarkDue) {
        yield* sql`UPDATE api_keys SET last_used_at = now()
          WHERE id = ${key.id} AND ${sql.literal(USE_MARK_DUE)}`.pipe(Effect.orDie)
      }
      return Option.some(new ApiKey(key, { disableValidation: true }))
    })

    /**
     * The revoked key behind a bearer secret, if it is one: a device still sending a revoked key is
     * worth naming in the audit log (a forgotten device, or a leaked secret being tried).
     */
    const revokedKeyOf = Effect.fn("ApiKeys.revokedKeyOf")(function* (secret: string) {
      const [row] = yield* sql<{ id: string; name: string; prefix: string }>`
        SELECT id::text AS id, name, prefix FROM api_keys WHERE secret_hash = ${hashOf(secret)} AND revoked_at IS NOT NULL`.pipe(Effect.orDie)
      return Option.fromNullable(row)
    })

    /** Whether `key` may use `scope` (and, when the route is about a site, that site). */
    const authorise = (key: ApiKey, scope: ApiKeyScope, siteId?: string): Effect.Effect<void, Forbidden> =>
      !key.scopes.includes(scope)
        ? Effect.fail(new Forbidden({ message: `This API key may not do this (it lacks the ${scope} scope).`, details: { required_scope: scope, scopes: key.scopes } }))
        : siteId !== undefined && key.siteIds !== null && !key.siteIds.includes(siteId.toLowerCase())
          ? Effect.fail(new Forbidden({ message: "This API key may not write to this site.", details: { site_id: siteId } }))
          : Effect.void

    return {
      create,
      revoke,
      list: () => active(undefined).pipe(Effect.orDie),
      sites: () => siteChoices(undefined).pipe(Effect.orDie),
      authenticate,
      revokedKeyOf,
      authorise,
    }
  }),
}) {}
