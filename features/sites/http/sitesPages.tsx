import { can, currentUser, guard, type Principal, readerOf, renderPage, signedIn } from "@scopeline/accounts"
import { type ApiError, errorSentence } from "@scopeline/ui/ApiError"
import { decodeInput, formBody, formText } from "@scopeline/ui/decode"
import { formatDate } from "@scopeline/ui/format"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Either } from "effect"
import { Elysia } from "elysia"
import { Sites, type SiteWithTotals } from "../Sites.ts"
import { SitesRepo } from "../SitesRepo.ts"
import { SiteChange, SiteRequest } from "../Site.ts"
import type { SiteFormValues } from "../views/SiteForm.tsx"
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

const present = (form: FormData, name: string) => {
  const value = formText(form, name)?.trim()
  return value === undefined || value === "" ? undefined : value
}

/** A site form's values as typed (kept when refused) and as the API's body. */
const fromForm = (form: FormData) => {
  const values: SiteFormValues = {
    code: present(form, "code"),
    name: present(form, "name"),
    country: present(form, "country"),
    limit: present(form, "emission_limit_kg_co2e"),
    period: present(form, "limit_period"),
  }
  const limit = values.limit === undefined ? null : limitOf(values.limit)
  const body = {
    code: values.code ?? "",
    name: values.name ?? "",
    country: values.country ?? "",
    emission_limit_kg_co2e: limit,
    limit_period: values.period ?? "month",
  }
  return { values, body }
}

const valuesOf = (entry: SiteWithTotals): SiteFormValues => ({
  code: entry.site.code,
  name: entry.site.name,
  country: entry.site.country,
  limit: entry.site.emissionLimitKgCo2e ?? undefined,
  period: entry.site.limitPeriod,
})

/**
 * A limit as typed: commas only as thousands separators ("12,500"). Any other comma ("1,5", a decimal
 * comma or a slip) is not a number here, so the form is refused instead of the comma being dropped
 * and 1,5 kg read as 15.
 */
const GROUPED = /^\d{1,3}(,\d{3})+(\.\d+)?$/
const limitOf = (text: string): number => {
  const trimmed = text.trim()
  return !trimmed.includes(",") ? Number(trimmed) : GROUPED.test(trimmed) ? Number(trimmed.replaceAll(",", "")) : Number.NaN
}

/** The refusals a site form can meet, shown on the page with what was typed. */
const FORM_ERRORS = ["BadRequest", "SiteCodeTaken"]

/** /sites and /sites/:id; accountants and admins also add and change sites there. */
export const sitesPages = (respond: Responder<SitesServices>) => {
  const { page } = pageResponder(respond)

  const listPage = (request: Request, principal: Principal, status: number, form?: { values: SiteFormValues; error?: string }) =>
    Effect.gen(function* () {
      const user = yield* currentUser(principal)
      const { sites } = yield* (yield* Sites).list()
      const editable = can(principal.role, "upload")
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Sites", status, principal, user },
          <SitesPage sites={sites.map(siteRowView)} form={editable ? (form ?? { values: {} }) : undefined} />,
        ),
      )
    })

  const sitePage = (request: Request, principal: Principal, id: string, status: number, form?: { values?: SiteFormValues; error?: string; notice?: string }) =>
    Effect.gen(function* () {
      const user = yield* currentUser(principal)
      const reader = readerOf(user)
      const entry = yield* (yield* Sites).get(yield* siteIdOf(id))
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
      const editable = can(principal.role, "upload")
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: `Site ${entry.site.code}`, status, principal, user },
          <SitePage
            site={siteRowView(entry)}
            byGas={entry.totals.byGas}
            days={[...new Set(days)].map((day) => ({ day, reading: byDay.get(day) }))}
            activities={activities}
            alerts={alerts}
            reader={reader}
            form={editable ? { values: form?.values ?? valuesOf(entry), error: form?.error, notice: form?.notice } : undefined}
          />,
        ),
      )
    })

  return new Elysia({ name: "pages.sites" })
    .get("/sites", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal } = yield* signedIn(request, "view")
          return yield* listPage(request, principal, 200)
        }),
      ),
    )
    .post(
      "/sites",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const { values, body } = fromForm(yield* formBody(request))
            const created = yield* decodeInput(SiteRequest, "site")(body).pipe(
              Effect.flatMap((valid) => Sites.pipe(Effect.flatMap((sites) => sites.create(principal, valid)))),
              Effect.either,
            )
            if (Either.isRight(created)) return new Response(null, { status: 303, headers: { location: `/sites/${created.right.site.id}` } })
            if (!FORM_ERRORS.includes(created.left._tag)) return yield* Effect.fail(created.left)
            return yield* listPage(request, principal, created.left.status, { values, error: errorSentence(created.left) })
          }),
        ),
      { parse: "none" },
    )
    .get("/sites/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal } = yield* signedIn(request, "view")
          return yield* sitePage(request, principal, params.id, 200)
        }),
      ),
    )
    .post(
      "/sites/:id",
      ({ request, params }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const id = yield* siteIdOf(params.id)
            const { values, body } = fromForm(yield* formBody(request))
            const changed = yield* decodeInput(SiteChange, "change")(body).pipe(
              Effect.flatMap((valid) => Sites.pipe(Effect.flatMap((sites) => sites.update(principal, id, valid)))),
              Effect.either,
            )
            if (Either.isRight(changed)) return yield* sitePage(request, principal, params.id, 200, { notice: "Saved." })
            if (!FORM_ERRORS.includes(changed.left._tag)) return yield* Effect.fail(changed.left)
            return yield* sitePage(request, principal, params.id, changed.left.status, { values, error: errorSentence(changed.left) })
          }),
        ),
      { parse: "none" },
    )
}
