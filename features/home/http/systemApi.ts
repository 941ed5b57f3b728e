import { guard } from "@scopeline/accounts"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { enabledFlags, isEnabled } from "@scopeline/accounts"
import { productTips } from "../HomeContent.ts"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { errorBody, json, type Responder } from "@scopeline/ui/respond"
import type { HomeServices } from "./services.ts"

/** GET /v1/system/essentials, /v1/system/feature_flags and /v1/home, as in the seed. */
export const systemApi = (respond: Responder<HomeServices>) =>
  new Elysia({ name: "api.system", prefix: "/v1" })
    .get("/system/essentials", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const config = yield* AppConfig
          return json({ help_url: config.helpUrl, support_email: config.supportEmail, version: config.version })
        }),
      ),
    )
    .get("/system/feature_flags", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          return json(enabledFlags(principal))
        }),
      ),
    )
    .get("/home", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const config = yield* AppConfig
          return json({
            announcement: config.announcement,
            product_tips: isEnabled("product_tips", principal) ? productTips(config.helpUrl) : [],
          })
        }),
      ),
    )

/** Liveness says the process serves requests; readiness says it can reach its database. */
export const healthApi = (respond: Responder<HomeServices>) =>
  new Elysia({ name: "api.health" })
    .get("/healthz", () => json({ status: "ok" }))
    .get("/readyz", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`SELECT 1`
          return json({ status: "ready" })
        }).pipe(
          Effect.timeout("2 seconds"),
          Effect.catchAll(() =>
            Effect.succeed(json(errorBody("not_ready", "The database is not reachable."), 503)),
          ),
        ),
      ),
    )
