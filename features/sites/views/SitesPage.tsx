import { formatEmissions } from "@scopeline/ui/format"
import { LimitBar, percentText, statusText } from "./LimitBar.tsx"
import { SiteForm, type SiteFormValues } from "./SiteForm.tsx"

export interface SiteRowView {
  readonly id: string
  readonly code: string
  readonly name: string
  readonly country: string
  readonly period: string
  readonly limitPeriod: "month" | "year"
  readonly totalKg: string
  readonly measuredKg: string
  readonly activitiesKg: string
  readonly limitKg: string | null
  readonly percent: number | null
  readonly status: keyof typeof statusText
}

/** /sites: every site's total for its current period against its limit, as bars and as a table of the same numbers. */
export const SitesPage = (props: {
  readonly sites: ReadonlyArray<SiteRowView>
  /** Shown to those who may create sites (accountants, admins). */
  readonly form?: { readonly values: SiteFormValues; readonly error?: string | undefined } | undefined
}) => (
  <>
    <h1>Sites</h1>
    <p class="muted">
      Each site's emissions for its current period (a calendar month or year, in UTC): measurements sent by its devices plus
      the calculated activities whose file names the site.
    </p>
    {props.form === undefined ? null : (
      <section id="new-site" aria-labelledby="new-site-heading">
        <h2 id="new-site-heading">Add a site</h2>
        <SiteForm action="/sites" id="site-create-form" submit="Add site" values={props.form.values} error={props.form.error} />
      </section>
    )}
    {props.sites.length === 0 ? (
      <p id="no-sites" class="muted">
        No sites yet.
      </p>
    ) : (
      <>
        <section id="site-bars" aria-labelledby="site-bars-heading">
          <h2 id="site-bars-heading">Against their limits</h2>
          <ul class="site-bars">
            {props.sites.map((site) => (
              <li>
                <a href={`/sites/${site.id}`} safe>
                  {`${site.code} · ${site.name}`}
                </a>
                <LimitBar
                  id={`bar-${site.id}`}
                  label={`${site.code}: total for ${site.period} against its limit`}
                  totalKg={site.totalKg}
                  limitKg={site.limitKg}
                  percent={site.percent}
                  status={site.status}
                />
              </li>
            ))}
          </ul>
        </section>
        <table id="sites-table">
          <caption>Totals for the current period</caption>
          <thead>
            <tr>
              <th scope="col">Site</th>
              <th scope="col">Name</th>
              <th scope="col">Country</th>
              <th scope="col">Period</th>
              <th scope="col" class="num">
                Measured
              </th>
              <th scope="col" class="num">
                Activities
              </th>
              <th scope="col" class="num">
                Total
              </th>
              <th scope="col" class="num">
                Limit
              </th>
              <th scope="col" class="num">
                Of limit
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {props.sites.map((site) => (
              <tr data-site={site.code}>
                <td>
                  <a href={`/sites/${site.id}`} safe>
                    {site.code}
                  </a>
                </td>
                <td safe>{site.name}</td>
                <td safe>{site.country}</td>
                <td safe>{site.period}</td>
                <td class="num" safe>
                  {formatEmissions(site.measuredKg)}
                </td>
                <td class="num" safe>
                  {formatEmissions(site.activitiesKg)}
                </td>
                <td class="num total" safe>
                  {formatEmissions(site.totalKg)}
                </td>
                <td class="num" safe>
                  {site.limitKg === null ? "—" : `${formatEmissions(site.limitKg)} per ${site.limitPeriod}`}
                </td>
                <td class="num percent" safe>
                  {percentText(site.percent)}
                </td>
                <td class={`site-status ${site.status}`}>
                  {statusText[site.status]}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </>
    )}
  </>
)
