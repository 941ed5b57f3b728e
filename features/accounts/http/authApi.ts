import { Authentication, LoginRequest } from "../Authentication.ts"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import type { AccountsServices } from "./services.ts"

export const authApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.auth", prefix: "/v1/auth" }).post(
    "/login",
    ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(LoginRequest, "login request")))
          const auth = yield* Authentication
          const { jwt } = yield* auth.login(body.credentials)
          return json({ jwt })
        }),
      ),
    { parse: "none" },
  )
