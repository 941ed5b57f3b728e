import { Authentication } from "@scopeline/auth/Authentication"
import { BadRequest, Forbidden, Unauthorized } from "@scopeline/domain/ApiError"
import { Effect } from "effect"
import { timingSafeEqual } from "node:crypto"

export const SESSION_COOKIE = "scopeline_session"
export const CSRF_COOKIE = "scopeline_csrf"
export const CSRF_FIELD = "_csrf"
export const CSRF_HEADER = "x-csrf-token"

export const readCookie = (request: Request, name: string): string | undefined => {
  const header = request.headers.get("cookie")
  if (!header) return undefined
  for (const part of header.split(";")) {
    const [key, ...rest] = part.trim().split("=")
    if (key !== name) continue
    try {
      return decodeURIComponent(rest.join("="))
    } catch {
      // A malformed cookie (planted or corrupted) counts as no cookie, never as a server error.
      return undefined
    }
  }
  return undefined
}

const isHttps = (request: Request) =>
  new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https"

export const cookie = (request: Request, name: string, value: string, maxAgeSeconds: number): string =>
  [
    `${name}=${encodeURIComponent(value)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${maxAgeSeconds}`,
    ...(isHttps(request) ? ["Secure"] : []),
  ].join("; ")

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
        return yield* new BadRequest({ message: "The Authorization header must be `Bearer <token>`." })
      }
      return yield* auth.verify(match[1]!)
    }
    const token = readCookie(request, SESSION_COOKIE)
    if (token === undefined) return yield* new Unauthorized({ message: "Sign in first: no token was provided." })
    return yield* auth.verify(token)
  })

// One token per request, however many times a page asks for it while rendering.
const issuedTokens = new WeakMap<Request, { token: string; setCookie?: string }>()

/** A per-browser random token; the page embeds it and every state-changing request must echo it. */
export const csrfToken = (request: Request): { token: string; setCookie?: string } => {
  const issued = issuedTokens.get(request)
  if (issued) return issued
  const existing = readCookie(request, CSRF_COOKIE)
  const result =
    existing && /^[\w-]{32,}$/.test(existing)
      ? { token: existing }
      : (() => {
          const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
          return { token, setCookie: cookie(request, CSRF_COOKIE, token, 60 * 60 * 24 * 30) }
        })()
  issuedTokens.set(request, result)
  return result
}

/**
 * Double-submit check on top of SameSite=Lax cookies: a cross-site form cannot read the token, so
 * it cannot echo it. Applies to cookie-authenticated requests only; bearer tokens are not ambient.
 */
export const verifyCsrf = (request: Request, submitted: string | undefined) => {
  const expected = readCookie(request, CSRF_COOKIE)
  const given = submitted ?? request.headers.get(CSRF_HEADER) ?? ""
  const ok =
    expected !== undefined &&
    expected.length === given.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(given))
  return ok
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "This form has expired. Reload the page and try again." }))
}

/**
 * For state-changing API calls: a browser (cookie session) must also echo its CSRF token in the
 * `x-csrf-token` header; API clients holding a bearer token are not exposed to CSRF.
 */
export const authenticateChange = (request: Request) =>
  authenticate(request).pipe(
    Effect.tap(() => (request.headers.get("authorization") === null ? verifyCsrf(request, undefined) : Effect.void)),
  )
