import { SqlClient, SqlSchema } from "@effect/sql"
import { type ActorInput, AuditLog } from "@scopeline/events"
import { Webhooks } from "@scopeline/webhooks"
import { Effect, Schema } from "effect"
import { type Site, THRESHOLDS } from "./Site.ts"
import { SitesRepo } from "./SitesRepo.ts"

export const RaisedAlert = Schema.Struct({
  id: Schema.String,
  period: Schema.String,
  threshold: Schema.Number,
  totalKgCo2e: Schema.String,
  limitKgCo2e: Schema.String,
})
export type RaisedAlert = typeof RaisedAlert.Type

export const alertType = (threshold: number) => (threshold >= 100 ? "site.limit_exceeded" : "site.limit_warning")

/**
 * The limit rule: when a site's total for a period reaches 80% and 100% of its limit, one alert
 * each, stored, recorded as a business event and handed to the webhooks, all inside the caller's
 * transaction (the change that crossed the line). "Once" is the alerts table's unique key (site,
 * period, threshold): a retry, a replay or a batch racing this one finds the row and raises nothing.
 * Call it with the site locked (SitesRepo.lock), so the total it reads is the one just committed.
 * The rule itself is migration 0054's site_alerts_raise, which measurements_record also calls.
 */
export class SiteLimits extends Effect.Service<SiteLimits>()("scopeline/SiteLimits", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const sites = yield* SitesRepo
    const audit = yield* AuditLog
    const webhooks = yield* Webhooks

    // The period totals and the alerts they raise in one call (migration 0054's site_alerts_raise).
    const insertAlerts = (site: Site, limit: string, periods: ReadonlyArray<string>) =>
      SqlSchema.findAll({
        Request: Schema.Void,
        Result: RaisedAlert,
        execute: () => sql`
          SELECT id, period, threshold, total_kg_co2e, limit_kg_co2e
          FROM site_alerts_raise(${site.id}::uuid, ${limit}::numeric, ${periods}::text[], ${THRESHOLDS}::int[])`,
      })(undefined)

    /** Each alert just raised, recorded as a business event and handed to the webhooks, in the caller's transaction. */
    const announce = Effect.fn("SiteLimits.announce")(function* (
      site: Pick<Site, "id" | "code">,
      raised: ReadonlyArray<RaisedAlert>,
      actor: ActorInput,
    ) {
      for (const alert of raised) {
        const type = alertType(alert.threshold)
        const details = {
          site_code: site.code,
          period: alert.period,
          threshold_percent: alert.threshold,
          total_kg_co2e: alert.totalKgCo2e,
          limit_kg_co2e: alert.limitKgCo2e,
        }
        yield* audit.record({
          category: "business",
          action: type === "site.limit_exceeded" ? "site_limit_exceeded" : "site_limit_warning",
          actor,
          object: { type: "site", id: site.id },
          details: { ...details, alert_id: alert.id },
        })
        yield* webhooks.publish({ type, key: `${site.id}:${alert.period}:${alert.threshold}`, payload: { site_id: site.id, alert_id: alert.id, ...details } })
      }
    })

    /** Checks the site's thresholds in each of `periods` (keys such as `2026-12` or `2026`); returns the alerts raised now. */
    const check = Effect.fn("SiteLimits.check")(function* (site: Site, periods: ReadonlyArray<string>, actor: ActorInput) {
      const limit = site.emissionLimitKgCo2e
      if (limit === null || periods.length === 0) return [] as ReadonlyArray<RaisedAlert>
      const unique = [...new Set(periods)].sort()
      const raised = yield* insertAlerts(site, limit, unique).pipe(Effect.orDie)
      yield* announce(site, raised, actor)
      return raised
    })

    /**
     * The activity side of the rule: after a change that calculated activities of `uploadId`, each
     * site they name is locked (in id order, so two jobs never wait on each other) and checked for
     * the periods of those activities, in the caller's transaction. An upload naming no site costs
     * one index probe (activities_site_upload_idx).
     */
    const checkUpload = Effect.fn("SiteLimits.checkUpload")(function* (uploadId: string, actor: ActorInput) {
      const touched = yield* sql<{ siteId: string; month: string }>`
        SELECT DISTINCT site_id, to_char(activity_date, 'YYYY-MM') AS month
        FROM activities
        WHERE upload_id = ${uploadId} AND site_id IS NOT NULL AND status = 'calculated' AND activity_date IS NOT NULL
        ORDER BY site_id, month`.pipe(Effect.orDie)
      const bySite = new Map<string, Array<string>>()
      for (const row of touched) bySite.set(row.siteId, [...(bySite.get(row.siteId) ?? []), row.month])
      const raised: Array<RaisedAlert> = []
      for (const [siteId, months] of bySite) {
        const site = yield* sites.lock(siteId as Site["id"])
        if (site._tag === "None") continue
        const periods = months.map((month) => (site.value.limitPeriod === "month" ? month : month.slice(0, 4)))
        raised.push(...(yield* check(site.value, periods, actor)))
      }
      return raised
    })

    return { check, checkUpload, announce }
  }),
  dependencies: [SitesRepo.Default, Webhooks.Default],
}) {}
