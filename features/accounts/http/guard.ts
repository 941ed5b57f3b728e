import { TokenUnreadable } from "../Tokens.ts"
import { Forbidden, Unauthorized } from "@scopeline/ui/ApiError"
import { readCookie, SESSION_COOKIE, verifyCsrf } from "@scopeline/ui/session"
import { Effect, Option } from "effect"
import { Authentication } from "../Authentication.ts"
import { type Permission, requirePermission } from "../Permissions.ts"
import { type ActorInput, AuditLog } from "@scopeline/events"
import { type ApiKeyScope, ApiKeys, isApiKey, type KeyCaller, keyActor } from "../ApiKeys.ts"
import type { Principal } from "../User.ts"

/**
 * The caller's identity from `Authorization: Bearer …` (API clients) or the session cookie (pages).
 * Missing → 401; not a bearer scheme or not a JWT → 400; bad signature or expired → 401.
 */
export const authenticate = (request: Request) =>
  Effect.gen(function* () {
    const auth = yield* Authentication
    const header = request.headers.get("authorization")
    if (header !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (!match) {
        return yield* new TokenUnreadable({ message: "The Authorization header must be `Bearer <token>`." })
      }
      return yield* auth.verify(match[1]!)
    }
    const token = readCookie(request, SESSION_COOKIE)
    if (token === undefined) return yield* new Unauthorized({ message: "Sign in first: no token was provided." })
    return yield* auth.verify(token)
  })

// For state-changing calls a browser (cookie session) must also echo its CSRF token in the
// `x-csrf-token` header; API clients holding a bearer token are not exposed to CSRF.

/** The bearer token of the request, if it sends one. */
const bearerOf = (request: Request) => /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1]

/**
 * An API key on a route for people: a key may call only the routes its scopes name (`guardCaller`),
 * so anything else is a 403, recorded against the key (or a 401 for a key that is not valid).
 */
const refuseApiKey = (request: Request) => {
  const token = bearerOf(request)
  if (token === undefined || !isApiKey(token)) return Effect.void
  return Effect.gen(function* () {
    const key = yield* knownKey(request, token)
    const error = new Forbidden({ message: "An API key may call only the routes its scopes allow; sign in as a person for this one." })
    yield* recordDenied(request, keyActor(key), error, "api key on a route for people")
    return yield* error
  })
}

/** The key behind `token`, or a 401 (recorded) for one that is unknown or revoked. */
const knownKey = (request: Request, token: string) =>
  Effect.gen(function* () {
    const key = yield* (yield* ApiKeys).authenticate(token)
    if (Option.isSome(key)) return key.value
    const error = new Unauthorized({ message: "This API key is not valid: it is unknown or was revoked." })
    const revoked = yield* (yield* ApiKeys).revokedKeyOf(token)
    yield* tokenRejected(
      request,
      error,
      Option.match(revoked, {
        onNone: () => ({ actor: {}, reason: "unknown api key" }),
        onSome: (key) => ({ actor: { service: `api-key:${key.id}` }, reason: "revoked api key", key: { name: key.name, key_prefix: key.prefix } }),
      }),
    )
    return yield* error
  })

const recordDenied = (request: Request, actor: ActorInput, error: { readonly code: string; readonly message: string }, reason: string) =>
  AuditLog.pipe(
    Effect.flatMap((audit) =>
      audit.recordRefusal({
        category: "security",
        action: "permission_denied",
        actor,
        object: { type: "request", id: new URL(request.url).pathname },
        outcome: { status: "failure", errorCode: error.code, message: error.message },
        details: { method: request.method, path: new URL(request.url).pathname, reason },
      }),
    ),
  )

export type Caller = { readonly _tag: "User"; readonly principal: Principal } | KeyCaller

/**
 * The guard of a route that machines may call too: an API key holding `scope` (and allowed for
 * `siteId`, when given), or a signed-in person holding `permission`. Keys are not ambient, so they
 * need no CSRF token; people's cookie sessions do, for a "change".
 */
export const guardCaller = (
  request: Request,
  options: { readonly permission: Permission; readonly scope: ApiKeyScope; readonly siteId?: string; readonly access?: "read" | "change" },
) =>
  Effect.gen(function* () {
    const token = bearerOf(request)
    if (token === undefined || !isApiKey(token)) {
      const principal = yield* guard(request, options.permission, options.access ?? "change")
      return { _tag: "User", principal } satisfies Caller as Caller
    }
    const key = yield* knownKey(request, token)
    yield* (yield* ApiKeys).authorise(key, options.scope, options.siteId).pipe(
      Effect.tapError((error) =>
        recordDenied(request, keyActor(key), error, key.scopes.includes(options.scope) ? "site not allowed for this key" : `requires ${options.scope}`),
      ),
    )
    return { _tag: "ApiKey", key } satisfies Caller as Caller
  })

const requestDetails = (request: Request) => ({ method: request.method, path: new URL(request.url).pathname })

const presentsToken = (request: Request) =>
  request.headers.get("authorization") !== null || readCookie(request, SESSION_COOKIE) !== undefined

/** Who a refused credential belonged to, when it is known: a revoked API key, or a person's genuine token. */
interface RejectedCredential {
  readonly actor: ActorInput
  readonly reason: string
  readonly key?: { readonly name: string; readonly key_prefix: string }
}

/** The person behind a refused session token, if the token is genuine (signed out, deactivated, role gone). */
const sessionHolder = (request: Request) =>
  Effect.gen(function* () {
    const token = bearerOf(request) ?? readCookie(request, SESSION_COOKIE)
    const subject = token === undefined ? Option.none() : yield* (yield* Authentication).subjectOf(token)
    return Option.match(subject, {
      onNone: (): RejectedCredential => ({ actor: {}, reason: "token not genuine or expired" }),
      onSome: (subject): RejectedCredential => ({ actor: { userId: subject.userId }, reason: "session no longer valid" }),
    })
  })

/** A token was presented and refused (expired, forged, signed out, for a deactivated account, a revoked key). */
const tokenRejected = (request: Request, error: { readonly code: string; readonly message: string }, credential?: RejectedCredential) =>
  presentsToken(request)
    ? Effect.gen(function* () {
        const { actor, reason, key } = credential ?? (yield* sessionHolder(request))
        const audit = yield* AuditLog
        yield* audit.recordRefusal({
          category: "security",
          action: "token_rejected",
          actor,
          object: { type: "request", id: requestDetails(request).path },
          outcome: { status: "failure", errorCode: error.code, message: error.message },
          details: { ...requestDetails(request), reason, ...(key === undefined ? {} : { key }) },
        })
      })
    : Effect.void

const permissionDenied = (request: Request, principal: Principal, error: { readonly code: string; readonly message: string }, reason: string) =>
  recordDenied(request, { userId: principal.userId, role: principal.role }, error, reason)

/**
 * The one guard every route declares, first: who is calling (token or session, checked against the
 * account as it is now) and whether their role holds `permission`. "change" is for state-changing
 * calls: a cookie session must also carry its CSRF token (the header, or `formToken`). Every refusal is a security event
 * (written so that losing it never changes the refusal's status).
 */
export const guard = (
  request: Request,
  permission: Permission,
  access: "read" | "change" = "read",
  /** A full-page form's `_csrf` field, for a post that cannot send the header. */
  formToken?: string,
) =>
  refuseApiKey(request).pipe(
    // Only authentication's refusals here: an API key's were recorded against the key already.
    Effect.zipRight(authenticate(request).pipe(Effect.tapError((error) => tokenRejected(request, error)))),
    Effect.tap((principal) =>
      requirePermission(principal, permission).pipe(
        Effect.tapError((error) => permissionDenied(request, principal, error, `requires ${permission}`)),
      ),
    ),
    Effect.tap((principal) =>
      access === "change" && request.headers.get("authorization") === null
        ? verifyCsrf(request, formToken).pipe(Effect.tapError((error) => permissionDenied(request, principal, error, "csrf")))
        : Effect.void,
    ),
  )
