import { guard } from "@scopeline/accounts"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { enabledFlags, isEnabled } from "@scopeline/accounts"
import { productTips } from "../HomeContent.ts"
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { errorBody, json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { HomeServices } from "./services.ts"

const Status = (status: string) => Schema.Struct({ status: Schema.Literal(status) })

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const systemApiDocs = {
  essentials: documented({
    summary: "Where to find help, and the running version",
    tag: "system",
    access: "public",
    responses: {
      200: {
        description: "Help address, support email and version.",
        schema: Schema.Struct({ help_url: Schema.String, support_email: Schema.String, version: Schema.String }),
      },
    },
  }),
  featureFlags: documented({
    summary: "The feature flags enabled for the signed-in user",
    tag: "system",
    access: "view",
    responses: { 200: { description: "The names of the enabled flags.", schema: Schema.Array(Schema.String) } },
  }),
  home: documented({
    summary: "The home page's announcement and product tips",
    tag: "system",
    access: "view",
    responses: {
      200: {
        description: "What the home page shows.",
        schema: Schema.Struct({
          announcement: Schema.NullOr(Schema.String),
          product_tips: Schema.Array(Schema.Struct({ title: Schema.String, description: Schema.String, permalink: Schema.String })),
        }),
      },
    },
  }),
  healthz: documented({
    summary: "Liveness: the process serves requests",
    tag: "system",
    access: "public",
    responses: { 200: { description: "Up.", schema: Status("ok") } },
  }),
  readyz: documented({
    summary: "Readiness: the database is reachable",
    tag: "system",
    access: "public",
    responses: { 200: { description: "Ready.", schema: Status("ready") } },
  }),
}

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
      { detail: systemApiDocs.essentials },
    )
    .get("/system/feature_flags", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          return json(enabledFlags(principal))
        }),
      ),
      { detail: systemApiDocs.featureFlags },
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
      { detail: systemApiDocs.home },
    )

/** Liveness says the process serves requests; readiness says it can reach its database. */
export const healthApi = (respond: Responder<HomeServices>) =>
  new Elysia({ name: "api.health" })
    .get("/healthz", () => json({ status: "ok" }), { detail: systemApiDocs.healthz })
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
      { detail: systemApiDocs.readyz },
    )
