import { formatCount, formatEmissions, formatQuantity } from "@scopeline/ui/format"
import { Pager } from "@scopeline/ui/Pager"
import { reviewStatusText } from "./ActivityPage.tsx"
export interface ActivityView {
  readonly id: string
  readonly description: string
  readonly quantity: string | null
  readonly unit: string | null
  readonly date: string | null
  readonly status: string
  /** kg CO2e as exact decimal text; null until calculated. */
  readonly emissionsKg: string | null
  readonly factor: { readonly id: string; readonly name: string } | null
  readonly matchSource: string | null
  readonly confidence: string | null
  readonly reviewStatus: string | null
  readonly failureReason: string | null
}

export interface UploadOption {
  readonly id: string
  readonly label: string
}

export interface ActivitiesTableProps {
  readonly rows: ReadonlyArray<ActivityView>
  readonly offset: number
  readonly previousHref: string | null
  readonly nextHref: string | null
  /** Progress of the selected upload, per status; absent when no upload is selected. */
  readonly counts?: Readonly<Record<string, number>>
}

export interface ActivitiesPageProps extends ActivitiesTableProps {
  readonly statuses: ReadonlyArray<string>
  readonly uploads: ReadonlyArray<UploadOption>
  readonly status: string | null
  readonly uploadId: string | null
  readonly reviewStatuses: ReadonlyArray<string>
  readonly reviewStatus: string | null
}

const percent = (confidence: string) => `${Math.round(Number(confidence) * 100)}%`

/** The table alone: what the filter form swaps in. */
export const ActivitiesTable = (props: ActivitiesTableProps) => (
  <section id="activities-table">
    {!!props.counts && (
      <p class="progress" id="upload-progress">
        {Object.entries(props.counts).map(([status, count]) => (
          <span class={`status ${status}`} safe>
            {`${status}: ${formatCount(count)}`}
          </span>
        ))}
      </p>
    )}
    {props.rows.length === 0 ? (
      <p class="muted" id="no-activities">
        No activities match these filters.
      </p>
    ) : (
      <table class="activities">
        <thead>
          <tr>
            <th>Description</th>
            <th>Quantity</th>
            <th>Date</th>
            <th>Status</th>
            <th class="num">Emissions</th>
            <th>Emission factor</th>
            <th>Match</th>
            <th>Review</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr data-activity-id={row.id}>
              <td>
                <a class="activity-link" href={`/activities/${row.id}`} safe>
                  {row.description}
                </a>
              </td>
              <td safe>{[row.quantity === null ? null : formatQuantity(row.quantity), row.unit].filter((part) => part !== null).join(" ")}</td>
              <td safe>{row.date ?? ""}</td>
              <td>
                <span class={`status ${row.status}`} safe>
                  {row.status}
                </span>
              </td>
              <td class="num emissions" safe>
                {row.emissionsKg === null ? "—" : formatEmissions(row.emissionsKg)}
              </td>
              <td>
                {row.factor ? (
                  <a class="factor-link" href={`/catalogue/${row.factor.id}`} safe>
                    {row.factor.name}
                  </a>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td>
                {!!row.matchSource && (
                  <span class="match" safe>
                    {row.confidence === null ? row.matchSource : `${row.matchSource} · ${percent(row.confidence)}`}
                  </span>
                )}
                {!!row.failureReason && (
                  <span class="failure" safe>
                    {row.failureReason}
                  </span>
                )}
              </td>
              <td class="review-status" safe>
                {row.reviewStatus === null ? "—" : (reviewStatusText[row.reviewStatus] ?? row.reviewStatus)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <Pager previousHref={props.previousHref} nextHref={props.nextHref} />
  </section>
)

export const ActivitiesPage = (props: ActivitiesPageProps) => (
  <>
    <h1>Activities</h1>
    <form
      id="activity-filters"
      class="filters"
      action="/activities"
      method="get"
      hx-get="/activities"
      hx-target="#activities-table"
      hx-swap="outerHTML"
      hx-push-url="true"
    >
      <label>
        Status
        <select name="status">
          <option value="">Any</option>
          {props.statuses.map((status) => (
            <option value={status} selected={props.status === status} safe>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label>
        Review status
        <select name="review_status">
          <option value="">Any</option>
          {props.reviewStatuses.map((status) => (
            <option value={status} selected={props.reviewStatus === status} safe>
              {reviewStatusText[status] ?? status}
            </option>
          ))}
        </select>
      </label>
      <label>
        Upload
        <select name="upload_id">
          <option value="">All uploads</option>
          {props.uploads.map((upload) => (
            <option value={upload.id} selected={props.uploadId === upload.id} safe>
              {upload.label}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
    </form>
    {/* The export takes the filters the page shows; it is written in the background (features/inventory). */}
    <form method="post" action="/exports" class="filters" id="export-activities">
      <input type="hidden" name="kind" value="activities" />
      {!!props.status && <input type="hidden" name="status" value={props.status} />}
      {!!props.uploadId && <input type="hidden" name="upload_id" value={props.uploadId} />}
      {!!props.reviewStatus && <input type="hidden" name="review_status" value={props.reviewStatus} />}
      <label>
        Export format
        <select name="format">
          <option value="csv">CSV</option>
          <option value="xlsx">Excel (XLSX)</option>
        </select>
      </label>
      <button type="submit">Export</button>
    </form>
    <ActivitiesTable {...props} />
  </>
)
