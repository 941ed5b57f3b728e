import { renderPage, signedIn } from "@scopeline/accounts"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { csrfToken } from "@scopeline/ui/session"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Option } from "effect"
import { Elysia } from "elysia"
import { InventoryReports } from "../InventoryReports.ts"
import { DashboardPage } from "../views/DashboardPage.tsx"
import { inventoryRequest, InventoryParams } from "./inventoryApi.ts"
import type { InventoryServices } from "./services.ts"

const thisMonth = () => new Date().toISOString().slice(0, 7)

/** /dashboard: the inventory for a period (default: the latest 12 months that have calculated activities). */
export const dashboardPage = (respond: Responder<InventoryServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.inventory" }).get("/dashboard", ({ request }) =>
    page(
      request,
      Effect.gen(function* () {
        const { principal, user } = yield* signedIn(request, "view")
        const params = yield* decodeInput(InventoryParams, "period")(queryParams(request))
        const reports = yield* InventoryReports
        const period =
          params.from === undefined && params.to === undefined
            ? Option.getOrUndefined(yield* reports.defaultPeriod())
            : { from: params.from, to: params.to }
        const inventory = yield* inventoryRequest({ ...params, ...period })
        const report = yield* reports.report(inventory)
        // Whether anything exists at all decides which empty state helps: upload, or pick another period.
        const anyActivities =
          report.coverage.activities > 0 ||
          (period !== undefined && (yield* reports.report(yield* inventoryRequest({ upload_id: params.upload_id }))).coverage.activities > 0)
        const activitiesHref = (status: string) => {
          const search = new URLSearchParams({ status })
          if (params.upload_id) search.set("upload_id", params.upload_id)
          return `/activities?${search}`
        }
        return yield* Effect.promise(() =>
          renderPage(
            request,
            { title: "Inventory", principal, user },
            <DashboardPage
              report={report}
              fromMonth={inventory.from?.slice(0, 7) ?? ""}
              toMonth={inventory.to?.slice(0, 7) ?? thisMonth()}
              activitiesHref={activitiesHref}
              anyActivities={anyActivities}
              csrfToken={csrfToken(request).token}
              uploadId={params.upload_id ?? null}
            />,
          ),
        )
      }),
    ),
  )
}
