import { guard } from "@scopeline/accounts"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { UploadId } from "@scopeline/uploads"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { activityTemplateCsv } from "../ActivityTemplate.ts"
import { InventoryPeriodInvalid } from "../errors.ts"
import { CalendarDate, InventoryReportJson, InventoryRequest } from "../Inventory.ts"
import { monthEnd } from "../period.ts"
import { documented } from "@scopeline/ui/RouteDoc"
import { InventoryReports } from "../InventoryReports.ts"
import type { InventoryServices } from "./services.ts"


const Month = Schema.String.pipe(Schema.pattern(/^\d{4}-(0[1-9]|1[0-2])$/, { message: () => "must be a date as YYYY-MM-DD or a month as YYYY-MM" }))

/** A bound of the period: a date, or a month (its first day as `from`, its last as `to`). */
const bound = (edge: "from" | "to") =>
  Schema.Union(
    CalendarDate,
    Schema.transform(Month, CalendarDate, {
      strict: true,
      decode: (month) => (edge === "from" ? `${month}-01` : monthEnd(month)),
      encode: (date) => date.slice(0, 7),
    }),
  )

export const InventoryParams = Schema.Struct({
  from: Schema.optional(bound("from")),
  to: Schema.optional(bound("to")),
  upload_id: Schema.optional(UploadId),
  site: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
})
export type InventoryParams = typeof InventoryParams.Type

export const inventoryRequest = (params: InventoryParams) =>
  params.from !== undefined && params.to !== undefined && params.from > params.to
    ? Effect.fail(
        new InventoryPeriodInvalid({
          message: "The period ends before it starts.",
          details: [{ path: "to", message: `is before from (${params.from})` }],
        }),
      )
    : Effect.succeed(
        InventoryRequest.make({
          from: params.from ?? null,
          to: params.to ?? null,
          uploadId: params.upload_id ?? null,
          site: params.site ?? null,
        }),
      )

/** The OpenAPI entries of the routes below, attached to each as its `detail`. */
export const inventoryApiDocs = {
  inventory: documented({
    summary: "The emissions inventory: totals by scope, scope 3 category, category, month and gas, with coverage",
    description:
      "Calculated activities only; every breakdown adds up to its total to the gram. Scope 2 is location-based. " +
      "`from`/`to` take a date (YYYY-MM-DD) or a month (YYYY-MM, its first or last day); `site` is a site code.",
    tag: "inventory",
    access: "view",
    query: InventoryParams,
    responses: { 200: { description: "The inventory for the period and filters.", schema: InventoryReportJson } },
  }),
  template: documented({
    summary: "The activity file template: the header and three example rows (text/csv)",
    tag: "inventory",
    access: "view",
    responses: { 200: { description: "A CSV file to fill in and upload." } },
  }),
}

/** GET /v1/inventory and GET /v1/templates/activities.csv. */
export const inventoryApi = (respond: Responder<InventoryServices>) =>
  new Elysia({ name: "api.inventory", prefix: "/v1" })
    .get("/inventory", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          yield* guard(request, "view")
          const params = yield* decodeInput(InventoryParams, "query")(queryParams(request))
          const report = yield* (yield* InventoryReports).report(yield* inventoryRequest(params))
          return json(report)
        }),
      ),
      { detail: inventoryApiDocs.inventory },
    )
    .get("/templates/activities.csv", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          // Behind sign-in like the upload form that links it: nothing secret, but no page is public.
          yield* guard(request, "view")
          return new Response(activityTemplateCsv(), {
            headers: {
              "content-type": "text/csv; charset=utf-8",
              "content-disposition": 'attachment; filename="scopeline-activities-template.csv"',
            },
          })
        }),
      ),
      { detail: inventoryApiDocs.template },
    )
