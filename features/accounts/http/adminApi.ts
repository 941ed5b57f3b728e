import { guard } from "./guard.ts"
import { UsersRepo } from "../UsersRepo.ts"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { json, type Responder } from "@scopeline/ui/respond"
import type { AccountsServices } from "./services.ts"

/** Administration: who has access, with which role. */
export const adminApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.admin", prefix: "/v1/admin" }).get("/users", ({ request }) =>
    respond.api(
      request,
      Effect.gen(function* () {
        const principal = yield* guard(request, "administer")
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
