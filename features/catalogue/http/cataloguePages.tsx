import { FactorsRepo } from "../FactorsRepo.ts"
import { CataloguePage, CatalogueResults } from "../views/CataloguePage.tsx"
import { FactorPage } from "../views/FactorPage.tsx"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { factorSearch, FactorSearchParams, findFactor } from "./catalogueApi.ts"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import type { Responder } from "@scopeline/ui/respond"
import type { CatalogueServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { renderPage, signedIn } from "@scopeline/accounts"

const pageHref = (params: FactorSearchParams, offset: number) => {
  const search = new URLSearchParams()
  for (const key of ["q", "scope", "unit", "geography", "factor_set"] as const) {
    const value = params[key]
    if (value) search.set(key, value)
  }
  if (offset > 0) search.set("offset", String(offset))
  if (params.limit !== 25) search.set("limit", String(params.limit))
  const query = search.toString()
  return query ? `/catalogue?${query}` : "/catalogue"
}

/** /catalogue (search) and /catalogue/:id (one factor with its provenance). */
export const cataloguePages = (respond: Responder<CatalogueServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.catalogue" })
    .get("/catalogue", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          const params = yield* decodeInput(FactorSearchParams, "search")(queryParams(request))
          const repo = yield* FactorsRepo
          const result = yield* repo.search(factorSearch(params))
          const sets = yield* repo.sets()
          const props = {
            search: {
              q: params.q ?? "",
              scope: params.scope ?? "",
              unit: params.unit ?? "",
              geography: params.geography ?? "",
              factorSet: params.factor_set ?? "",
            },
            sets: sets.map((set) => ({ id: set.id, year: set.year, source: set.source, factorCount: set.factorCount, current: set.current })),
            rows: result.rows.map((f) => ({
              id: f.id,
              name: f.name,
              scope: f.scope,
              unit: f.unit,
              value: f.factorValue,
              factorUnit: f.factorUnit,
              geography: f.geography,
              source: f.source,
              year: f.year,
            })),
            total: result.total,
            offset: params.offset,
            previousHref: params.offset > 0 ? pageHref(params, Math.max(0, params.offset - params.limit)) : null,
            nextHref: params.offset + result.rows.length < result.total ? pageHref(params, params.offset + params.limit) : null,
          }
          const partial = request.headers.get("hx-request-type") === "partial"
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Catalogue", principal, user },
              partial ? <CatalogueResults {...props} /> : <CataloguePage {...props} />,
            ),
          )
        }),
      ),
    )
    .get("/catalogue/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          const f = yield* findFactor(params.id)
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: f.name, principal, user },
              <FactorPage
                factor={{
                  id: f.id,
                  ref: f.ref,
                  name: f.name,
                  activityType: f.activityType,
                  categoryPath: f.categoryPath,
                  scope: f.scope,
                  unit: f.unit,
                  dimension: f.dimension,
                  value: f.factorValue,
                  factorUnit: f.factorUnit,
                  ghgUnit: f.ghgUnit,
                  geography: f.geography,
                  isPrimary: f.isPrimary,
                  source: f.source,
                  sourceId: f.sourceId,
                  year: f.year,
                  factorSet: f.factorSet,
                  publication: f.publication,
                  sourceFile: f.sourceFile,
                  licence: f.licence,
                  attribution: f.attribution,
                }}
              />,
            ),
          )
        }),
      ),
    )
}
