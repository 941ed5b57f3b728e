import { uploadLabel } from "@scopeline/ui/uploadLabel"
import { Notices } from "@scopeline/ui/Notices"
import { SiteForm, type SiteFormValues } from "./SiteForm.tsx"
import { formatCount, formatEmissions, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"
import type { DailyMeasurement, GasTotal, LinkedActivity, StoredAlert } from "../SitesRepo.ts"
import { LimitBar, percentText } from "./LimitBar.tsx"
import type { SiteRowView } from "./SitesPage.tsx"

const kg = (text: string) => formatEmissions(text)

/** Vertical bars, one per day, of the CO2e measured that day (days where the reader is). */
export const DailyChart = (props: { readonly id: string; readonly title: string; readonly days: ReadonlyArray<{ readonly day: string; readonly kg: number; readonly text: string }> }) => {
  const width = 720
  const plot = 180
  const axis = 24
  const max = Math.max(0, ...props.days.map((d) => d.kg))
  const slot = props.days.length === 0 ? width : width / props.days.length
  const barWidth = Math.max(2, slot * 0.7)
  const withReadings = props.days.filter((d) => d.kg > 0)
  return (
    <svg class="chart" id={props.id} viewBox={`0 0 ${width} ${plot + axis}`} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`}>
      <title id={`${props.id}-title`} safe>
        {props.title}
      </title>
      <desc id={`${props.id}-desc`} safe>
        {withReadings.length === 0 ? "No measurements in these days." : withReadings.map((d) => `${d.day}: ${d.text}`).join("; ")}
      </desc>
      <line class="chart-axis" x1="0" y1={plot} x2={width} y2={plot} />
      {props.days.map((d, i) => {
        const h = max === 0 ? 0 : (d.kg / max) * (plot - 8)
        const x = i * slot + (slot - barWidth) / 2
        return <rect class="series-2" x={x.toFixed(2)} y={(plot - h).toFixed(2)} width={barWidth.toFixed(2)} height={h.toFixed(2)} />
      })}
      {/* A label every seventh day: 31 labels would overlap. */}
      {props.days
        .map((d, i) => ({ d, i }))
        .filter(({ i }) => i % 7 === 0)
        .map(({ d, i }) => (
          <text class="chart-label" x={(i * slot + slot / 2).toFixed(2)} y={plot + 16} text-anchor="middle" safe>
            {d.day.slice(5)}
          </text>
        ))}
    </svg>
  )
}

export interface SitePageProps {
  readonly site: SiteRowView
  readonly byGas: ReadonlyArray<typeof GasTotal.Type>
  readonly days: ReadonlyArray<{ readonly day: string; readonly reading: DailyMeasurement | undefined }>
  readonly activities: ReadonlyArray<LinkedActivity>
  readonly alerts: ReadonlyArray<StoredAlert>
  readonly reader: ReaderPreferences
  /** Shown to those who may change sites (accountants, admins). */
  readonly form?: { readonly values: SiteFormValues; readonly error?: string | undefined; readonly notice?: string | undefined } | undefined
}

export const SitePage = (props: SitePageProps) => {
  const { site } = props
  const days = props.days.map(({ day, reading }) => ({
    day,
    kg: reading === undefined ? 0 : Number(reading.kgCo2e),
    text: reading === undefined ? kg("0") : kg(reading.kgCo2e),
    readings: reading?.readings ?? 0,
  }))
  return (
    <>
      <p>
        <a href="/sites">All sites</a>
      </p>
      <h1 safe>{`${site.name} (${site.code})`}</h1>
      <Notices id="site" notice={props.form?.notice} />
      <section id="site-total" aria-labelledby="site-total-heading">
        <h2 id="site-total-heading" safe>{`Total for ${site.period}`}</h2>
        <p class="headline-figure" id="site-total-figure" safe>
          {kg(site.totalKg)}
        </p>
        <p safe>
          {site.limitKg === null
            ? "No limit is set for this site."
            : `${percentText(site.percent)} of its ${kg(site.limitKg)} limit per ${site.limitPeriod}.`}
        </p>
        <LimitBar id="site-limit-bar" label={`${site.code}: total for ${site.period} against its limit`} totalKg={site.totalKg} limitKg={site.limitKg} percent={site.percent} status={site.status} />
        <table id="site-breakdown">
          <caption>Where the total comes from</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col" class="num">
                Amount of gas
              </th>
              <th scope="col" class="num">
                CO2e
              </th>
              <th scope="col" class="num">
                Readings
              </th>
            </tr>
          </thead>
          <tbody>
            {props.byGas.map((gas) => (
              <tr>
                <th scope="row" safe>{`Measured ${gas.gas}`}</th>
                <td class="num" safe>
                  {formatEmissions(gas.kg).replace(/ CO2e$/, "")}
                </td>
                <td class="num" safe>
                  {kg(gas.co2e)}
                </td>
                <td class="num" safe>
                  {formatCount(gas.measurements)}
                </td>
              </tr>
            ))}
            <tr>
              <th scope="row">Activities</th>
              <td class="num">—</td>
              <td class="num" safe>
                {kg(site.activitiesKg)}
              </td>
              <td class="num">—</td>
            </tr>
          </tbody>
        </table>
      </section>
      <section id="site-daily" aria-labelledby="site-daily-heading">
        <h2 id="site-daily-heading" safe>
          Measurements per day, last {formatCount(days.length)} days
        </h2>
        <DailyChart id="daily-chart" title={`${site.code}: CO2e measured per day`} days={days} />
        <table id="daily-table">
          <caption safe>{`Days in ${props.reader.timezone}`}</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col" class="num">
                CO2e
              </th>
              <th scope="col" class="num">
                Readings
              </th>
            </tr>
          </thead>
          <tbody>
            {days
              .filter((d) => d.readings > 0)
              .map((d) => (
                <tr>
                  <td safe>{d.day}</td>
                  <td class="num" safe>
                    {d.text}
                  </td>
                  <td class="num" safe>
                    {formatCount(d.readings)}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </section>
      <section id="site-alerts" aria-labelledby="site-alerts-heading">
        <h2 id="site-alerts-heading">Alerts</h2>
        {props.alerts.length === 0 ? (
          <p class="muted" id="no-alerts">
            No alerts: no period has reached 80% of the limit.
          </p>
        ) : (
          <table id="alerts-table">
            <thead>
              <tr>
                <th scope="col">Raised</th>
                <th scope="col">Period</th>
                <th scope="col">Alert</th>
                <th scope="col" class="num">
                  Total then
                </th>
                <th scope="col" class="num">
                  Limit
                </th>
              </tr>
            </thead>
            <tbody>
              {props.alerts.map((alert) => (
                <tr data-alert={`${alert.period}:${alert.threshold}`}>
                  <td>
                    <time datetime={isoInstant(alert.createdAt)} safe>
                      {formatTimestamp(alert.createdAt, props.reader)}
                    </time>
                  </td>
                  <td safe>{alert.period}</td>
                  <td>{alert.threshold >= 100 ? "Limit exceeded (100%)" : "Warning (80%)"}</td>
                  <td class="num" safe>
                    {kg(alert.totalKgCo2e)}
                  </td>
                  <td class="num" safe>
                    {kg(alert.limitKgCo2e)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section id="site-activities" aria-labelledby="site-activities-heading">
        <h2 id="site-activities-heading">Activities of this site</h2>
        {props.activities.length === 0 ? (
          <p class="muted" id="no-site-activities">
            No uploaded activity names this site in its <code>site</code> column yet.
          </p>
        ) : (
          <table id="site-activities-table">
            <caption>The 50 most recent by date</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Description</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Emissions
                </th>
                <th scope="col">Upload</th>
              </tr>
            </thead>
            <tbody>
              {props.activities.map((activity) => (
                <tr>
                  <td safe>{activity.date ?? "—"}</td>
                  <td>
                    <a href={`/activities/${activity.id}`} safe>
                      {activity.description}
                    </a>
                  </td>
                  <td>
                    <span class={`status ${activity.status}`} safe>
                      {activity.status}
                    </span>
                  </td>
                  <td class="num" safe>
                    {activity.emissions === null ? "—" : kg(activity.emissions)}
                  </td>
                  <td>
                    <a href={`/activities?upload_id=${activity.uploadId}`} safe>
                      {uploadLabel({ id: activity.uploadId, originalFilename: activity.uploadFilename, createdAt: activity.uploadCreatedAt }, props.reader)}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {props.form === undefined ? null : (
        <section id="edit-site" aria-labelledby="edit-site-heading">
          <h2 id="edit-site-heading">Change this site</h2>
          <SiteForm action={`/sites/${site.id}`} id="site-edit-form" submit="Save changes" values={props.form.values} error={props.form.error} />
        </section>
      )}
    </>
  )
}
