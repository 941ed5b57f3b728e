import { Forbidden } from "./ApiError.ts"
import { Effect } from "effect"
import { timingSafeEqual } from "node:crypto"

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

