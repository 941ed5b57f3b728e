import { guard } from "./guard.ts"
import { Authentication, LoginRequest } from "../Authentication.ts"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import type { AccountsServices } from "./services.ts"
import { readCookie, SESSION_COOKIE } from "@scopeline/ui/session"
import { clientAddressOf } from "@scopeline/ui/clientAddress"

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
      { parse: "none" },
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
      { parse: "none" },
    )
