import { renderPage, signedIn } from "@scopeline/accounts"
import { errorSentence } from "@scopeline/ui/ApiError"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { csrfToken } from "@scopeline/ui/session"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Either, Option } from "effect"
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
        const reports = yield* InventoryReports
        /** What the report covers: the period asked for, or by default the latest months with data. */
        const requestOf = (params: InventoryParams) =>
          Effect.gen(function* () {
            const period =
              params.from === undefined && params.to === undefined
                ? Option.getOrUndefined(yield* reports.defaultPeriod())
                : { from: params.from, to: params.to }
            return yield* inventoryRequest({ ...params, ...period })
          })
        // A period the picker cannot show (reversed, or not a month) is said above the picker, which keeps
        // what was asked, with the default period's figures below: the page stays usable.
        const asked = yield* decodeInput(InventoryParams, "period")(queryParams(request)).pipe(
          Effect.flatMap((params) => requestOf(params).pipe(Effect.map((inventory) => ({ params, inventory })))),
          Effect.either,
        )
        const fallback: InventoryParams = {}
        const { params, inventory } = Either.isRight(asked)
          ? asked.right
          : { params: fallback, inventory: yield* Effect.orDie(requestOf(fallback)) }
        const period = inventory.from === null && inventory.to === null ? undefined : inventory
        const typed = (name: "from" | "to") => {
          const value = new URL(request.url).searchParams.get(name) ?? ""
          return /^\d{4}-\d{2}$/.test(value) ? value : undefined
        }
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
            { title: "Inventory", principal, user, status: Either.isLeft(asked) ? asked.left.status : 200 },
            <DashboardPage
              report={report}
              fromMonth={(Either.isLeft(asked) ? typed("from") : undefined) ?? inventory.from?.slice(0, 7) ?? ""}
              toMonth={(Either.isLeft(asked) ? typed("to") : undefined) ?? inventory.to?.slice(0, 7) ?? thisMonth()}
              periodError={Either.isLeft(asked) ? errorSentence(asked.left) : undefined}
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
