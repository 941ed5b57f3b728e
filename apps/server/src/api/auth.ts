import { Authentication, LoginRequest } from "@scopeline/auth/Authentication"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody } from "../http/decode.ts"
import { json, type Responder } from "../http/respond.ts"
import type { ServerServices } from "../ServerServices.ts"

export const authApi = (respond: Responder<ServerServices>) =>
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
