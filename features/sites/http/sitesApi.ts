import { type Caller, guard, guardCaller, keyActor } from "@scopeline/accounts"
import { decodeInput, jsonBody, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { SiteNotFound } from "../errors.ts"
import { MAX_BATCH, Measurements, MeasurementsRequest, MeasurementsResult } from "../Measurements.ts"
import { periodBounds, SiteChange, SiteId, SiteJson, SiteRequest } from "../Site.ts"
import { Sites, type SiteWithTotals } from "../Sites.ts"
import type { SitesServices } from "./services.ts"

const IdParam = Schema.Struct({ id: Schema.String })

const statusOf = (percent: number | null) =>
  percent === null ? ("no_limit" as const) : percent >= 100 ? ("exceeded" as const) : percent >= 80 ? ("warning" as const) : ("within" as const)

/** The API's view of a site: amounts as JSON numbers (exact sums are kept in the database). */
export const siteJson = ({ site, period, totals }: SiteWithTotals): typeof SiteJson.Type => {
  const limit = site.emissionLimitKgCo2e === null ? null : Number(site.emissionLimitKgCo2e)
  const total = Number(totals.totalKgCo2e)
  const percent = limit === null ? null : (total / limit) * 100
  const bounds = periodBounds(period)
  const lastDay = new Date(Date.parse(`${bounds.until}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
  return {
    id: site.id,
    url: `/v1/sites/${site.id}`,
    code: site.code,
    name: site.name,
    country: site.country,
    emission_limit_kg_co2e: limit,
    limit_period: site.limitPeriod,
    current_period: {
      period,
      from: bounds.from,
      to: lastDay,
      unit: "kg CO2e",
      total_kg_co2e: total,
      measurements_kg_co2e: Number(totals.measuredKgCo2e),
      activities_kg_co2e: Number(totals.activitiesKgCo2e),
      activities: totals.activities,
      by_gas: totals.byGas.map((g) => ({ gas: g.gas, kg: Number(g.kg), kg_co2e: Number(g.co2e), measurements: g.measurements })),
      limit_kg_co2e: limit,
      percent_of_limit: percent,
      status: statusOf(percent),
    },
    created_at: site.createdAt.toISOString(),
    updated_at: site.updatedAt.toISOString(),
  }
}

/** A path id that is not a UUID names no site: 404, like an unknown one. */
export const siteIdOf = (id: string) =>
  Schema.decodeUnknown(SiteId)(id).pipe(Effect.catchAll(() => Effect.fail(new SiteNotFound({ message: "There is no site with this id." }))))

/** The audit log's actor for a caller: a person, or an API key (by its id, never its secret). */
export const actorOf = (caller: Caller) =>
  caller._tag === "User" ? { userId: caller.principal.userId, role: caller.principal.role } : keyActor(caller.key)

export const SitesPageQuery = Schema.Struct({
  offset: Schema.optionalWith(QueryInt, { default: () => 0 }),
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 500)), { default: () => 100 }),
})

export const sitesApiDocs = {
  create: documented({
    summary: "Create a site, with an optional emission limit per month or year",
    description: "`code` is what activity files put in their `site` column; codes are unique without regard to case.",
    tag: "sites",
    access: "upload",
    changes: true,
    body: SiteRequest,
    responses: { 201: { description: "The site, with its (empty) totals for the current period.", schema: Schema.Struct({ site: SiteJson }) } },
    errors: [409],
  }),
  list: documented({
    summary: "Every site with its total for the current period against its limit",
    description: "Periods are calendar months or years in UTC. The total is measurements plus calculated activities dated in the period.",
    tag: "sites",
    access: "view",
    query: SitesPageQuery,
    responses: {
      200: {
        description: "One page of sites by code.",
        schema: Schema.Struct({ offset: Schema.Number, limit: Schema.Number, total: Schema.Number, sites: Schema.Array(SiteJson) }),
      },
    },
  }),
  get: documented({
    summary: "One site with its total for the current period",
    tag: "sites",
    access: "view",
    params: IdParam,
    responses: { 200: { description: "The site.", schema: Schema.Struct({ site: SiteJson }) } },
    errors: [404],
  }),
  update: documented({
    summary: "Change a site's code, name, country, limit or limit period",
    description: "`emission_limit_kg_co2e: null` removes the limit. A lower limit that puts the current total over 80% or 100% raises the alert then.",
    tag: "sites",
    access: "upload",
    changes: true,
    params: IdParam,
    body: SiteChange,
    responses: { 200: { description: "The site as it is now.", schema: Schema.Struct({ site: SiteJson }) } },
    errors: [404, 409],
  }),
  measurements: documented({
    summary: "Send a batch of measurements (1 to 1000) for a site: idempotent, all or nothing",
    description:
      `Each reading is unique on (site, device_id, gas, timestamp): a retried or overlapping batch answers \`duplicate\` for what is stored and never counts it twice. ` +
      `One invalid item refuses the batch (400, \`details\` names each index, field and reason). More than ${MAX_BATCH} items is a 413. ` +
      "Gases: CO2, CH4, N2O and the DESNZ refrigerants, converted with the GWP of the factor set in use; units g, kg, t. " +
      "API keys need the `measurements:write` scope and, when the key names sites, this site.",
    tag: "sites",
    access: "upload",
    changes: true,
    params: IdParam,
    body: MeasurementsRequest,
    responses: { 200: { description: "What was stored and what was already there, per index.", schema: MeasurementsResult } },
    errors: [404, 413],
  }),
}

/** /v1/sites: sites and their measurement ingest. */
export const sitesApi = (respond: Responder<SitesServices>) =>
  new Elysia({ name: "api.sites", prefix: "/v1" })
    .post(
      "/sites",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(SiteRequest, "site")))
            const site = yield* (yield* Sites).create(principal, body)
            return json({ site: siteJson(site) }, 201)
          }),
        ),
      { parse: "none", detail: sitesApiDocs.create },
    )
    .get(
      "/sites",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const { offset, limit } = yield* decodeInput(SitesPageQuery, "query")(queryParams(request))
            const { sites, total } = yield* (yield* Sites).list(offset, limit)
            return json({ offset, limit, total, sites: sites.map(siteJson) })
          }),
        ),
      { detail: sitesApiDocs.list },
    )
    .get(
      "/sites/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const site = yield* (yield* Sites).get(yield* siteIdOf(params.id))
            return json({ site: siteJson(site) })
          }),
        ),
      { detail: sitesApiDocs.get },
    )
    .patch(
      "/sites/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const id = yield* siteIdOf(params.id)
            const change = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(SiteChange, "change")))
            const site = yield* (yield* Sites).update(principal, id, change)
            return json({ site: siteJson(site) })
          }),
        ),
      { parse: "none", detail: sitesApiDocs.update },
    )
    .post(
      "/sites/:id/measurements",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            // The key's site list is checked against the path's id (in lower case, as every path's UUIDs are: app.ts); a non-UUID is refused for a key that names sites.
            const caller = yield* guardCaller(request, { permission: "upload", scope: "measurements:write", siteId: params.id, access: "change" })
            const id = yield* siteIdOf(params.id)
            const measurements = yield* Measurements
            const items = yield* measurements.validate(yield* jsonBody(request))
            return json(yield* measurements.record(id, items, actorOf(caller)))
          }),
        ),
      { parse: "none", detail: sitesApiDocs.measurements },
    )
