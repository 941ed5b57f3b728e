import { renderPage, signedIn } from "@scopeline/accounts"
import { formatDate } from "@scopeline/ui/format"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { Sites, type SiteWithTotals } from "../Sites.ts"
import { SitesRepo } from "../SitesRepo.ts"
import { SitePage } from "../views/SitePage.tsx"
import { type SiteRowView, SitesPage } from "../views/SitesPage.tsx"
import { siteIdOf, siteJson } from "./sitesApi.ts"
import type { SitesServices } from "./services.ts"

const DAYS = 31

export const siteRowView = (entry: SiteWithTotals): SiteRowView => {
  const json = siteJson(entry)
  return {
    id: entry.site.id,
    code: entry.site.code,
    name: entry.site.name,
    country: entry.site.country,
    period: entry.period,
    limitPeriod: entry.site.limitPeriod,
    totalKg: entry.totals.totalKgCo2e,
    measuredKg: entry.totals.measuredKgCo2e,
    activitiesKg: entry.totals.activitiesKgCo2e,
    limitKg: entry.site.emissionLimitKgCo2e,
    percent: json.current_period.percent_of_limit,
    status: json.current_period.status,
  }
}

// PostgreSQL and Intl share the IANA names; a stored zone Intl does not know reads as UTC (as format.ts does).
const zoneFor = (timezone: string) => {
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: timezone })
    return timezone
  } catch {
    return "UTC"
  }
}

/** /sites and /sites/:id. */
export const sitesPages = (respond: Responder<SitesServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.sites" })
    .get("/sites", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          const sites = yield* (yield* Sites).list()
          return yield* Effect.promise(() => renderPage(request, { title: "Sites", principal, user }, <SitesPage sites={sites.map(siteRowView)} />))
        }),
      ),
    )
    .get("/sites/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "view")
          const entry = yield* (yield* Sites).get(yield* siteIdOf(params.id))
          const repo = yield* SitesRepo
          const zone = zoneFor(reader.timezone)
          const now = new Date()
          // The last DAYS calendar days where the reader is, today included.
          const days = Array.from({ length: DAYS }, (_, i) => formatDate(new Date(now.getTime() - (DAYS - 1 - i) * 86_400_000), { ...reader, timezone: zone }))
          const since = new Date(now.getTime() - (DAYS + 1) * 86_400_000)
          const [daily, activities, alerts] = yield* Effect.all([repo.daily(entry.site.id, zone, since), repo.activities(entry.site.id, 50), repo.alerts(entry.site.id)], {
            concurrency: "unbounded",
          })
          const byDay = new Map(daily.map((d) => [d.day, d]))
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: `Site ${entry.site.code}`, principal, user },
              <SitePage
                site={siteRowView(entry)}
                byGas={entry.totals.byGas}
                days={[...new Set(days)].map((day) => ({ day, reading: byDay.get(day) }))}
                activities={activities}
                alerts={alerts}
                reader={reader}
              />,
            ),
          )
        }),
      ),
    )
}
