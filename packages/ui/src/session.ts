import { Forbidden } from "./ApiError.ts"
import { Effect } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"

/** The session and CSRF cookies of the pages: names, reading, writing and the double-submit check. */
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
 * CSRF tokens are bound to the session (signed double-submit): `nonce.mac`, where the mac is an HMAC of
 * the nonce keyed by the session cookie's value. Someone who can plant a cookie (a sibling subdomain, a
 * plain-http hop) cannot make a token that passes, because the session cookie is HttpOnly and so
 * unknown to them. A token stops passing when the session changes: signing in or out rotates it.
 * Before sign-in the session is the empty string.
 */
const macOf = (session: string, nonce: string) =>
  createHmac("sha256", `scopeline-csrf:${session}`).update(nonce).digest("base64url")

const sessionOf = (request: Request) => readCookie(request, SESSION_COOKIE) ?? ""

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

const isBound = (token: string, session: string) => {
  const [nonce, mac, ...rest] = token.split(".")
  return nonce !== undefined && mac !== undefined && rest.length === 0 && /^[\w-]{32,}$/.test(nonce) && sameText(mac, macOf(session, nonce))
}

/** A fresh token for `session` (the session cookie's value, "" before sign-in). */
export const csrfTokenFor = (session: string): string => {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")
  return `${nonce}.${macOf(session, nonce)}`
}

// One token per request, however many times a page asks for it while rendering.
const issuedTokens = new WeakMap<Request, { token: string; setCookie?: string }>()

/** The token a page embeds: the browser's, while it is bound to its current session; otherwise a new one. */
export const csrfToken = (request: Request): { token: string; setCookie?: string } => {
  const issued = issuedTokens.get(request)
  if (issued) return issued
  const session = sessionOf(request)
  const existing = readCookie(request, CSRF_COOKIE)
  const result =
    existing !== undefined && isBound(existing, session)
      ? { token: existing }
      : (() => {
          const token = csrfTokenFor(session)
          return { token, setCookie: cookie(request, CSRF_COOKIE, token, 60 * 60 * 24 * 30) }
        })()
  issuedTokens.set(request, result)
  return result
}

/**
 * Double-submit check on top of SameSite=Lax cookies: a cross-site form cannot read the token, so
 * it cannot echo it, and a planted cookie is not bound to the victim's session. Applies to
 * cookie-authenticated requests only; bearer tokens are not ambient.
 */
export const verifyCsrf = (request: Request, submitted: string | undefined): Effect.Effect<void, Forbidden> => {
  const expected = readCookie(request, CSRF_COOKIE)
  const given = submitted ?? request.headers.get(CSRF_HEADER) ?? ""
  const ok = expected !== undefined && sameText(expected, given) && isBound(expected, sessionOf(request))
  return ok
    ? Effect.void
    : Effect.fail(new Forbidden({ message: "This form has expired. Reload the page and try again." }))
}
