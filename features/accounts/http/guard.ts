import { TokenUnreadable } from "../Tokens.ts"
import { Unauthorized } from "@scopeline/ui/ApiError"
import { readCookie, SESSION_COOKIE, verifyCsrf } from "@scopeline/ui/session"
import { Effect } from "effect"
import { Authentication } from "../Authentication.ts"
import { type Permission, requirePermission } from "../Permissions.ts"

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

/**
 * For state-changing API calls: a browser (cookie session) must also echo its CSRF token in the
 * `x-csrf-token` header; API clients holding a bearer token are not exposed to CSRF.
 */
export const authenticateChange = (request: Request) =>
  authenticate(request).pipe(
    Effect.tap(() => (request.headers.get("authorization") === null ? verifyCsrf(request, undefined) : Effect.void)),
  )

/**
 * The one guard every route declares, first: who is calling (token or session, checked against the
 * account as it is now) and whether their role holds `permission`. "change" is for state-changing
 * calls: a cookie session must also carry its CSRF token.
 */
export const guard = (request: Request, permission: Permission, access: "read" | "change" = "read") =>
  (access === "change" ? authenticateChange(request) : authenticate(request)).pipe(
    Effect.tap((principal) => requirePermission(principal, permission)),
  )
