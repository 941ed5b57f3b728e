import { formatCount } from "@scopeline/ui/format"
import type { ByScope, InventoryReport } from "../Inventory.ts"
import { BarList, kgText, type Segment, StackedBar, StackedColumns } from "./charts.tsx"
import { ExportForm } from "./ExportsPage.tsx"

const SCOPES: ReadonlyArray<{ readonly key: keyof ByScope; readonly label: string; readonly series: string }> = [
  { key: "1", label: "Scope 1", series: "series-1" },
  { key: "2", label: "Scope 2 (location-based)", series: "series-2" },
  { key: "3", label: "Scope 3", series: "series-3" },
  { key: "unassigned", label: "No scope", series: "series-6" },
]

const GASES = [
  { key: "co2", label: "CO2", series: "series-1" },
  { key: "ch4", label: "CH4", series: "series-2" },
  { key: "n2o", label: "N2O", series: "series-3" },
  { key: "other", label: "Other / not split", series: "series-4" },
] as const

const TOP_CATEGORIES = 8

const scopeSegments = (byScope: ByScope): ReadonlyArray<Segment> =>
  SCOPES.filter((scope) => scope.key !== "unassigned" || byScope.unassigned !== 0).map((scope) => ({
    label: scope.label,
    kg: byScope[scope.key],
    series: scope.series,
  }))

const share = (part: number, total: number) => (total === 0 ? "—" : `${((part / total) * 100).toFixed(1)}%`)

export interface DashboardProps {
  readonly report: InventoryReport
  /** The picker's values, YYYY-MM. */
  readonly fromMonth: string
  readonly toMonth: string
  /** Where the coverage links go (the activities page, with the upload filter when there is one). */
  readonly activitiesHref: (status: string) => string
  readonly csrfToken: string
  readonly uploadId: string | null
  /** Why the period asked for could not be shown (the figures are then the default period's). */
  readonly periodError?: string | undefined
}

const Coverage = (props: DashboardProps) => {
  const c = props.report.coverage
  return (
    <section class="card" id="coverage" aria-labelledby="coverage-heading">
      <h2 id="coverage-heading">Coverage</h2>
      <p>
        <strong safe>{`${c.percent_calculated.toFixed(1)}%`}</strong> of <span safe>{formatCount(c.activities)}</span> activities in this period are
        calculated and counted above.
      </p>
      <table>
        <caption class="muted">Activities in the period by status</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Activities
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">
              <a href={props.activitiesHref("calculated")}>Calculated</a>
            </th>
            <td class="num" id="coverage-calculated" safe>
              {formatCount(c.calculated)}
            </td>
          </tr>
          <tr>
            <th scope="row">
              <a href={props.activitiesHref("failed")}>Failed</a> (not counted: fix the file or the match)
            </th>
            <td class="num" id="coverage-failed" safe>
              {formatCount(c.failed)}
            </td>
          </tr>
          <tr>
            <th scope="row">
              <a href={props.activitiesHref("matching")}>Still being matched</a>
            </th>
            <td class="num" id="coverage-pending" safe>
              {formatCount(c.pending)}
            </td>
          </tr>
          <tr>
            <th scope="row">Awaiting review</th>
            <td class="num" id="coverage-needs-review" safe>
              {formatCount(c.needs_review)}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  )
}

const PeriodPicker = (props: DashboardProps) => (
  <form class="filters" id="period-picker" action="/dashboard" method="get">
    <label>
      From
      <input type="month" name="from" value={props.fromMonth} required />
    </label>
    <label>
      To
      <input type="month" name="to" value={props.toMonth} required />
    </label>
    <button type="submit">Show</button>
    {!!props.periodError && (
      <p class="alert error" role="alert" id="period-error" safe>
        {`${props.periodError} Showing the default period instead.`}
      </p>
    )}
  </form>
)

const Empty = (props: DashboardProps & { readonly anyActivities: boolean }) => (
  <section class="card" id="dashboard-empty">
    {props.anyActivities ? (
      <p>
        No calculated activities in this period. Pick another period above, or see{" "}
        <a href={props.activitiesHref("failed")}>the failed activities</a> and{" "}
        <a href={props.activitiesHref("matching")}>those still being matched</a>.
      </p>
    ) : (
      <p>
        Nothing to report yet. <a href="/uploads">Upload an activity file</a> (start from{" "}
        <a href="/v1/templates/activities.csv" hx-boost="false">
          the CSV template
        </a>
        ); once its activities are matched, the inventory appears here.
      </p>
    )}
  </section>
)

/** /dashboard: the inventory for a period, each chart followed by a table of the same numbers. */
export const DashboardPage = (props: DashboardProps & { readonly anyActivities: boolean }) => {
  const r = props.report
  const topCategories = r.by_category.slice(0, TOP_CATEGORIES)
  return (
    <>
      <h1>Inventory</h1>
      <PeriodPicker {...props} />
      <section class="card headline" id="headline" aria-labelledby="headline-heading">
        <h2 id="headline-heading" class="muted" safe>
          Total emissions, {r.period.from ?? "the beginning"} to {r.period.to ?? "today"}
        </h2>
        <p class="headline-figure" id="inventory-total" data-kg={r.total.toFixed(3)} safe>
          {kgText(r.total)}
        </p>
        <p class="muted">Scope 2 is location-based (grid-average factors for each activity's country).</p>
        <ExportForm
          kind="inventory"
          csrfToken={props.csrfToken}
          filters={{ from: r.period.from ?? undefined, to: r.period.to ?? undefined, upload_id: props.uploadId ?? undefined }}
        />
      </section>
      {r.coverage.calculated === 0 ? (
        <Empty {...props} />
      ) : (
        <>
          <section class="card" id="by-scope" aria-labelledby="by-scope-heading">
            <h2 id="by-scope-heading">By scope</h2>
            <StackedBar id="chart-scope" title="Emissions by scope" segments={scopeSegments(r.by_scope)} />
            <table>
              <caption class="muted">Emissions by GHG Protocol scope</caption>
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col" class="num">
                    Emissions
                  </th>
                  <th scope="col" class="num">
                    Share
                  </th>
                </tr>
              </thead>
              <tbody>
                {scopeSegments(r.by_scope).map((segment) => (
                  <tr>
                    <th scope="row" safe>
                      {segment.label}
                    </th>
                    <td class="num" data-kg={segment.kg.toFixed(3)} safe>
                      {kgText(segment.kg)}
                    </td>
                    <td class="num" safe>{share(segment.kg, r.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.scope3_by_category.length > 0 && (
              <table id="scope3-categories">
                <caption class="muted">Scope 3 by GHG Protocol category</caption>
                <thead>
                  <tr>
                    <th scope="col">Category</th>
                    <th scope="col" class="num">
                      Emissions
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.scope3_by_category.map((line) => (
                    <tr>
                      <th scope="row" safe>
                        {line.category === null ? line.name : `${line.category}. ${line.name}`}
                      </th>
                      <td class="num" data-kg={line.kg_co2e.toFixed(3)} safe>
                        {kgText(line.kg_co2e)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section class="card" id="by-month" aria-labelledby="by-month-heading">
            <h2 id="by-month-heading">By month</h2>
            <StackedColumns
              id="chart-month"
              title="Monthly emissions by scope"
              columns={r.by_month.map((month) => ({ label: month.month ?? "undated", segments: scopeSegments(month.by_scope) }))}
            />
            <table>
              <caption class="muted">Monthly emissions by scope</caption>
              <thead>
                <tr>
                  <th scope="col">Month</th>
                  {SCOPES.slice(0, 3).map((scope) => (
                    <th scope="col" class="num" safe>
                      {scope.label}
                    </th>
                  ))}
                  <th scope="col" class="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.by_month.map((month) => (
                  <tr data-month={month.month ?? "undated"}>
                    <th scope="row" safe>
                      {month.month ?? "undated"}
                    </th>
                    {SCOPES.slice(0, 3).map((scope) => (
                      <td class="num" safe>{kgText(month.by_scope[scope.key])}</td>
                    ))}
                    <td class="num" data-kg={month.kg_co2e.toFixed(3)} safe>
                      {kgText(month.kg_co2e)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card" id="by-category" aria-labelledby="by-category-heading">
            <h2 id="by-category-heading">Top categories</h2>
            <BarList
              id="chart-category"
              title={`The ${topCategories.length} largest categories`}
              bars={topCategories.map((line) => ({ label: line.category, kg: line.kg_co2e }))}
            />
            <table>
              <caption class="muted">Emissions by category (the activity's own, else its factor's)</caption>
              <thead>
                <tr>
                  <th scope="col">Category</th>
                  <th scope="col" class="num">
                    Activities
                  </th>
                  <th scope="col" class="num">
                    Emissions
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.by_category.map((line) => (
                  <tr>
                    <th scope="row" safe>
                      {line.category}
                    </th>
                    <td class="num" safe>{formatCount(line.activities)}</td>
                    <td class="num" data-kg={line.kg_co2e.toFixed(3)} safe>
                      {kgText(line.kg_co2e)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card" id="by-gas" aria-labelledby="by-gas-heading">
            <h2 id="by-gas-heading">By gas</h2>
            <StackedBar
              id="chart-gas"
              title="Emissions by greenhouse gas"
              segments={GASES.map((gas) => ({ label: gas.label, kg: r.by_gas[gas.key], series: gas.series }))}
            />
            <table>
              <caption class="muted">
                Emissions by gas, in CO2e (IPCC AR5 GWP100 for DESNZ factors). "Other / not split" is what the
                source does not publish as CO2, CH4 or N2O: other gases such as HFCs, and whole totals without a
                breakdown (grid electricity from Ember).
              </caption>
              <thead>
                <tr>
                  <th scope="col">Gas</th>
                  <th scope="col" class="num">
                    Emissions
                  </th>
                  <th scope="col" class="num">
                    Share
                  </th>
                </tr>
              </thead>
              <tbody>
                {GASES.map((gas) => (
                  <tr data-gas={gas.key}>
                    <th scope="row">
                      {gas.label}
                    </th>
                    <td class="num" data-kg={r.by_gas[gas.key].toFixed(3)} safe>
                      {kgText(r.by_gas[gas.key])}
                    </td>
                    <td class="num" safe>{share(r.by_gas[gas.key], r.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
      <Coverage {...props} />
    </>
  )
}
