import { SqlClient } from "@effect/sql"
import type { Principal } from "@scopeline/accounts"
import { AuditLog } from "@scopeline/events"
import { Effect, Option } from "effect"
import { SiteCodeTaken, SiteNotFound } from "./errors.ts"
import { periodBounds, periodOf, type Site, type SiteChange, type SiteId, type SiteRequest } from "./Site.ts"
import { SiteLimits } from "./SiteLimits.ts"
import { isUniqueViolation, type PeriodTotals, SitesRepo } from "./SitesRepo.ts"

/** A site with its totals for the period it is in now. */
export interface SiteWithTotals {
  readonly site: Site
  readonly period: string
  readonly totals: PeriodTotals
}

const noSuchSite = () => new SiteNotFound({ message: "There is no site with this id." })
const codeTaken = (code: string) =>
  new SiteCodeTaken({ message: `Another site already has the code ${code} (codes are compared without case).`, details: { code } })

/** Creating and changing sites, each change committed with its audit event; reading them with their current totals. */
/** A site as its audit events record it. The limit is the stored decimal text, exact. */
const recordedSite = (site: Site): Record<string, string | null> => ({
  code: site.code,
  name: site.name,
  country: site.country,
  emission_limit_kg_co2e: site.emissionLimitKgCo2e,
  limit_period: site.limitPeriod,
})

export class Sites extends Effect.Service<Sites>()("scopeline/Sites", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SitesRepo
    const limits = yield* SiteLimits
    const audit = yield* AuditLog

    const withTotals = (list: ReadonlyArray<Site>, now: Date) =>
      Effect.gen(function* () {
        const periods = list.map((site) => periodOf(now, site.limitPeriod))
        const totals = yield* repo.totals(list.map((site, i) => ({ siteId: site.id, ...periodBounds(periods[i]!) })))
        const bySite = new Map(totals.map((t) => [t.siteId, t]))
        return list.map((site, i): SiteWithTotals => ({ site, period: periods[i]!, totals: bySite.get(site.id)! }))
      })

    const get = Effect.fn("Sites.get")(function* (id: SiteId) {
      const site = yield* repo.findById(id)
      if (Option.isNone(site)) return yield* noSuchSite()
      return (yield* withTotals([site.value], new Date()))[0]!
    })

    const list = Effect.fn("Sites.list")(function* (offset = 0, limit = 500) {
      const page = yield* repo.list(offset, limit)
      return { sites: yield* withTotals(page.sites, new Date()), total: page.total }
    })

    const create = Effect.fn("Sites.create")(function* (by: Principal, request: SiteRequest) {
      const site = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            const site = yield* repo.insert(request, by.userId)
            yield* audit.record({
              category: "business",
              action: "site_created",
              actor: { userId: by.userId, role: by.role },
              object: { type: "site", id: site.id },
              details: recordedSite(site),
            })
            return site
          }),
        )
        .pipe(
          Effect.catchTag("SqlError", (error) => (isUniqueViolation(error) ? Effect.fail(codeTaken(request.code)) : Effect.die(error))),
          Effect.catchTags({ ParseError: Effect.die, NoSuchElementException: Effect.die }),
        )
      return (yield* withTotals([site], new Date()))[0]!
    })

    const update = Effect.fn("Sites.update")(function* (by: Principal, id: SiteId, change: SiteChange) {
      const site = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            const before = yield* repo.lock(id)
            if (Option.isNone(before)) return yield* noSuchSite()
            const after = yield* repo.update(id, change)
            const [was, is] = [recordedSite(before.value), recordedSite(after)]
            yield* audit.record({
              category: "business",
              action: "site_updated",
              actor: { userId: by.userId, role: by.role },
              object: { type: "site", id },
              // The same fields, named as the API names them, before and after: an auditor compares them directly.
              details: { changed: Object.keys(is).filter((field) => was[field] !== is[field]), before: was, after: is },
            })
            // A lower limit (or a shorter period) can put the current total over a threshold.
            yield* limits.check(after, [periodOf(new Date(), after.limitPeriod)], { userId: by.userId, role: by.role })
            return after
          }),
        )
        .pipe(
          Effect.catchTag("SqlError", (error) =>
            isUniqueViolation(error) ? Effect.fail(codeTaken(change.code ?? "")) : Effect.die(error),
          ),
          Effect.catchTags({ ParseError: Effect.die, NoSuchElementException: Effect.die }),
        )
      return (yield* withTotals([site], new Date()))[0]!
    })

    return { get, list, create, update, known: repo.known }
  }),
  dependencies: [SitesRepo.Default, SiteLimits.Default],
}) {}
