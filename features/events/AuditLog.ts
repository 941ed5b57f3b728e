import { SqlClient } from "@effect/sql"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { CurrentCorrelationId, ServiceName } from "@scopeline/settings/Correlation"
import { Cause, Config, Data, Effect, FiberRef, Option, Redacted } from "effect"
import { createHmac, randomBytes } from "node:crypto"
import { type AnyEventInput, type AuditEvent, isRegistered, SCHEMA_VERSION } from "./AuditEvent.ts"
import { AuditRepo, eventJson } from "./AuditRepo.ts"

/** The writer was handed an action it does not know, or one under the wrong category: a bug, not input. */
export class AuditEventRejected extends Data.TaggedError("AuditEventRejected")<{ readonly message: string }> {}

// The characters RFC 5322 allows in an unquoted local part, and any dotted domain.
const EMAIL = /[\w.!#$%&'*+/=?^`{|}~-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+/gi
/** Keys whose values are never stored, whatever a caller passes. */
const SECRET_KEY = /pass(word)?|token|secret|jwt|authori[sz]ation|cookie|api[_-]?key/i

/**
 * The key of email hashes: AUDIT_HASH_KEY when set, otherwise generated once and kept in the
 * database, so every process (server, workers, every container) hashes an email alike.
 */
const hashKey = Effect.gen(function* () {
  const configured = yield* Config.option(Config.redacted("AUDIT_HASH_KEY"))
  if (Option.isSome(configured)) return Redacted.value(configured.value)
  const sql = yield* SqlClient.SqlClient
  const generated = randomBytes(32).toString("base64url")
  yield* sql`INSERT INTO app_secrets (name, value) VALUES ('audit_hash_key', ${generated}) ON CONFLICT (name) DO NOTHING`
  const [row] = yield* sql<{ value: string }>`SELECT value FROM app_secrets WHERE name = 'audit_hash_key'`
  return row!.value
}).pipe(Effect.orDie)

/**
 * The one writer of the audit log. `record` joins the caller's transaction, so a change and its
 * event commit together or not at all; `recordRefusal` is for requests that were refused (nothing
 * changed), where losing the event must never turn a 401 or 403 into a 500.
 */
export class AuditLog extends Effect.Service<AuditLog>()("scopeline/AuditLog", {
  effect: Effect.gen(function* () {
    const repo = yield* AuditRepo
    const { version } = yield* AppConfig
    const environment = yield* Config.string("SCOPELINE_ENVIRONMENT").pipe(Config.withDefault("embedded"), Effect.orDie)
    const key = yield* hashKey

    /** HMAC-SHA-256 of the normalised address: the same email always gives the same hash, and no email is stored. */
    const emailHash = (email: string) => createHmac("sha256", key).update(email.trim().toLowerCase()).digest("hex")

    const scrubText = (text: string) => text.replace(EMAIL, (email) => `[email ${emailHash(email).slice(0, 16)}]`)
    const scrub = (value: unknown, depth = 0): unknown => {
      if (typeof value === "string") return scrubText(value)
      if (depth > 8 || value === null || typeof value !== "object") return value
      if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1))
      return Object.fromEntries(
        Object.entries(value).map(([name, item]) => [name, SECRET_KEY.test(name) ? "[redacted]" : scrub(item, depth + 1)]),
      )
    }

    const build = (input: AnyEventInput) =>
      Effect.gen(function* () {
        if (!isRegistered(input.category, input.action)) {
          return yield* new AuditEventRejected({
            message: `"${input.action}" is not a registered ${input.category} action`,
          })
        }
        const service = yield* ServiceName
        const current = yield* FiberRef.get(CurrentCorrelationId)
        const span = yield* Effect.currentSpan.pipe(Effect.option)
        const correlationId = input.correlationId ?? Option.getOrElse(current, () => crypto.randomUUID())
        const traceId = Option.map(span, (s) => s.traceId)
        const event: AuditEvent = {
          event_id: crypto.randomUUID(),
          timestamp: input.timestamp ?? new Date(),
          category: input.category,
          action: input.action,
          actor: {
            ...(input.actor.userId === undefined ? {} : { user_id: input.actor.userId }),
            ...(input.actor.email === undefined ? {} : { email_hash: emailHash(input.actor.email) }),
            ...(input.actor.role === undefined ? {} : { role: input.actor.role }),
            ...(input.actor.service === undefined ? {} : { service: input.actor.service }),
          },
          object: { type: input.object.type, id: scrubText(input.object.id) },
          correlation: {
            correlation_id: correlationId,
            ...(Option.isSome(traceId) ? { trace_id: traceId.value } : {}),
            ...(input.parentEventId === undefined ? {} : { parent_event_id: input.parentEventId }),
          },
          outcome: {
            status: input.outcome?.status ?? "success",
            ...(input.outcome?.errorCode === undefined ? {} : { error_code: input.outcome.errorCode }),
            ...(input.outcome?.message === undefined ? {} : { message: scrubText(input.outcome.message) }),
          },
          context: { environment, service, version },
          details: scrub(input.details ?? {}) as Record<string, unknown>,
          schema_version: SCHEMA_VERSION,
        }
        return event
      })

    /** An unregistered action is a bug in the caller, not bad input: it dies (and rolls back the change). */
    const record = Effect.fn("AuditLog.record")(function* (input: AnyEventInput) {
      const event = yield* build(input).pipe(Effect.orDie)
      yield* repo.insert(event)
      return event
    })

    /**
     * An event checked and built but not stored, for a statement that stores its own (and so needs no
     * transaction around it): `json` is what audit_events_append takes.
     */
    const prepare = (input: AnyEventInput) =>
      build(input).pipe(
        Effect.orDie,
        Effect.map((event) => ({ event, json: eventJson(event) })),
      )

    const recordRefusal = (input: AnyEventInput) =>
      record(input).pipe(
        Effect.asVoid,
        Effect.catchAllCause((cause) =>
          Effect.logWarning("audit event could not be written").pipe(
            Effect.annotateLogs({ action: input.action, reason: Cause.pretty(cause).split("\n")[0] ?? "" }),
          ),
        ),
      )

    return { record, prepare, recordRefusal, emailHash }
  }),
  dependencies: [AuditRepo.Default, AppConfig.Default],
}) {}
