import { guard } from "./guard.ts"
import { Authentication, LoginRequest } from "../Authentication.ts"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { AccountsServices } from "./services.ts"
import { readCookie, SESSION_COOKIE } from "@scopeline/ui/session"
import { clientAddressOf } from "@scopeline/ui/clientAddress"

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const authApiDocs = {
  login: documented({
    summary: "Sign in: a session token for the Authorization header",
    description: "Throttled per address and per (address, login): see docs/security.md.",
    tag: "sign-in",
    access: "public",
    body: LoginRequest,
    responses: { 200: { description: "The session token (JWT).", schema: Schema.Struct({ jwt: Schema.String }) } },
    errors: [401, 413, 429],
  }),
  logout: documented({
    summary: "Sign out: the token is refused from now on",
    tag: "sign-in",
    access: "view",
    changes: true,
    responses: { 204: { description: "Signed out." } },
  }),
}

export const authApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.auth", prefix: "/v1/auth" })
    .post(
      "/login",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(LoginRequest, "login request")))
            const auth = yield* Authentication
            const { jwt } = yield* auth.login(body.credentials, clientAddressOf(request))
            return json({ jwt })
          }),
        ),
      { parse: "none", detail: authApiDocs.login },
    )
    // Signs the bearer token (or the session cookie) out on the server: it is refused from then on.
    .post(
      "/logout",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view", "change")
            const header = request.headers.get("authorization")
            const token =
              header === null ? readCookie(request, SESSION_COOKIE) : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1]
            if (token !== undefined) yield* (yield* Authentication).signOut(token)
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: authApiDocs.logout },
    )
