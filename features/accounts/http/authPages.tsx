import { Authentication, Credentials } from "../Authentication.ts"
import { LoginPage } from "../views/LoginPage.tsx"
import { Effect, Either, Schema } from "effect"
import { Elysia } from "elysia"
import { formBody, formText } from "@scopeline/ui/decode"
import type { Responder } from "@scopeline/ui/respond"
import { authenticate } from "./guard.ts"
import { cookie, CSRF_FIELD, csrfToken, readCookie, SESSION_COOKIE, verifyCsrf } from "@scopeline/ui/session"
import type { AccountsServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { renderPage } from "./render.tsx"
import { clientAddressOf } from "@scopeline/ui/clientAddress"

const field = formText

/**
 * Only a path on this site: an open redirect after sign-in would be a phishing aid. Browsers drop
 * tabs and newlines and treat `\` as `/`, so "/\t/evil.example" would leave the site; such paths
 * are refused, and the result must resolve to our own origin.
 */
export const safeNext = (next: string | null | undefined, origin = "http://scopeline.invalid") => {
  if (!next || !/^\/(?![/\\])[^\\\s\u0000-\u001f\u007f]*$/.test(next)) return "/"
  try {
    const url = new URL(next, origin)
    // The parsed form, percent-encoded: a raw "/café" cannot go into a Location header as it is.
    return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : "/"
  } catch {
    return "/"
  }
}

export const authPages = (respond: Responder<AccountsServices>) => {
  const { page } = pageResponder(respond)
  const loginPage = (request: Request, status: number, props: { login?: string; error?: string; newPassword?: boolean }) => {
    // The page asked for before signing in travels with the form, so the sign-in lands there.
    const url = new URL(request.url)
    const next = safeNext(url.searchParams.get("next"), url.origin)
    return Effect.promise(() =>
      renderPage(request, { title: "Sign in", status }, <LoginPage csrfToken={csrfToken(request).token} next={next} {...props} />),
    )
  }
  return new Elysia({ name: "pages.auth" })
    .get("/login", ({ request }) =>
      page(
        request,
        authenticate(request).pipe(
          Effect.as(new Response(null, { status: 303, headers: { location: "/" } })),
          Effect.catchAll(() => loginPage(request, 200, {})),
        ),
      ),
    )
    .post(
      "/login",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const form = yield* formBody(request)
            yield* verifyCsrf(request, field(form, CSRF_FIELD))
            const login = field(form, "login") ?? ""
            const newPassword = field(form, "new_password")
            const credentials = Schema.decodeUnknownEither(Credentials)({
              login,
              password: field(form, "password") ?? "",
              ...(newPassword === undefined || newPassword === "" ? {} : { new_password: newPassword }),
            })
            if (Either.isLeft(credentials)) return yield* loginPage(request, 400, { login, error: "Enter your email and password." })
            const auth = yield* Authentication
            const result = yield* auth.login(credentials.right, clientAddressOf(request)).pipe(Effect.either)
            if (Either.isLeft(result)) {
              const error = result.left
              // An invited person's first sign-in (AWS mode), or their new password refused: ask again.
              const choosing = error._tag === "NewPasswordRequired" || error._tag === "WeakPassword"
              return yield* loginPage(request, error.status, { login, error: error.message, ...(choosing ? { newPassword: true } : {}) })
            }
            const next = safeNext(new URL(request.url).searchParams.get("next"), new URL(request.url).origin)
            return sessionStarted(request, result.right.jwt, next)
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/logout",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const form = yield* formBody(request)
            yield* verifyCsrf(request, field(form, CSRF_FIELD))
            // Revoked on the server too: a copy of this cookie taken earlier stops working as well.
            const token = readCookie(request, SESSION_COOKIE)
            if (token !== undefined) yield* (yield* Authentication).signOut(token)
            return new Response(null, {
              status: 303,
              headers: { location: "/login", "set-cookie": cookie(request, SESSION_COOKIE, "", 0) },
            })
          }),
        ),
      { parse: "none" },
    )
}

/** A new session: the browser goes to `location` holding `jwt` as its session cookie. */
export const sessionStarted = (request: Request, jwt: string, location: string) =>
  new Response(null, { status: 303, headers: { location, "set-cookie": cookie(request, SESSION_COOKIE, jwt, respondTtl(jwt)) } })

/** The cookie lives exactly as long as the token inside it. */
const respondTtl = (jwt: string): number => {
  const payload = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: number }
  return Math.max(0, (payload.exp ?? 0) - Math.floor(Date.now() / 1000))
}
