import { guard } from "./guard.ts"
import { UsersRepo } from "../UsersRepo.ts"
import { Unauthorized } from "@scopeline/ui/ApiError"
import { Effect, Option } from "effect"
import { Elysia } from "elysia"
import { json, type Responder } from "@scopeline/ui/respond"
import type { AccountsServices } from "./services.ts"

export const meApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.me", prefix: "/v1" }).get("/me", ({ request }) =>
    respond.api(
      request,
      Effect.gen(function* () {
        const principal = yield* guard(request, "view")
        const users = yield* UsersRepo
        const user = yield* users.findById(principal.userId).pipe(
          Effect.flatMap(
            Option.match({
              // A valid token for a deleted account: the session is over.
              onNone: () => Effect.fail(new Unauthorized({ message: "This account no longer exists." })),
              onSome: Effect.succeed,
            }),
          ),
        )
        return json({
          identity: { firstname: user.firstName, lastname: user.lastName },
          email: user.email,
          role: user.role,
          preferences: {
            marketing_opted_in: user.marketingOptedIn,
            time_format: user.timeFormat,
            timezone: user.timezone,
          },
        })
      }),
    ),
  )
