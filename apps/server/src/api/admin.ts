import { requirePermission } from "@scopeline/auth/Permissions"
import { UsersRepo } from "@scopeline/db/UsersRepo"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { json, type Responder } from "../http/respond.ts"
import { authenticate } from "../http/session.ts"
import type { ServerServices } from "../ServerServices.ts"

/** Administration: who has access, with which role. */
export const adminApi = (respond: Responder<ServerServices>) =>
  new Elysia({ name: "api.admin", prefix: "/v1/admin" }).get("/users", ({ request }) =>
    respond.api(
      request,
      Effect.gen(function* () {
        const principal = yield* authenticate(request)
        yield* requirePermission(principal, "administer")
        const users = yield* (yield* UsersRepo).list()
        return json({
          users: users.map((user) => ({
            id: user.id,
            email: user.email,
            identity: { firstname: user.firstName, lastname: user.lastName },
            role: user.role,
          })),
        })
      }),
    ),
  )
