import { formatCount } from "@scopeline/ui/format"

export interface ExportView {
  readonly id: string
  readonly kind: string
  readonly format: string
  readonly status: string
  readonly rowsWritten: number
  readonly totalRows: number | null
  readonly failureReason: string | null
  readonly createdAt: string
  readonly filters: string
}

/** The Export button with the filters of the page it is on, as hidden fields. */
export const ExportForm = (props: {
  readonly kind: "activities" | "inventory"
  /** For a full-page post; boosted forms send the token in a header anyway. */
  readonly csrfToken?: string
  readonly filters: Readonly<Record<string, string | undefined>>
}) => (
  <form method="post" action="/exports" class="export-form filters" id={`export-${props.kind}`}>
    {props.csrfToken !== undefined && <input type="hidden" name="_csrf" value={props.csrfToken} />}
    <input type="hidden" name="kind" value={props.kind} />
    {Object.entries(props.filters)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "")
      .map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
    <label>
      Format
      <select name="format">
        <option value="csv">CSV</option>
        <option value="xlsx">Excel (XLSX)</option>
      </select>
    </label>
    <button type="submit">Export</button>
  </form>
)

const progressOf = (e: ExportView) => (e.totalRows === null || e.totalRows === 0 ? 0 : Math.min(100, Math.round((e.rowsWritten / e.totalRows) * 100)))

/** The list alone: what polls itself while an export is still being written. */
export const ExportsList = (props: { readonly exports: ReadonlyArray<ExportView> }) => {
  const live = props.exports.some((e) => e.status === "queued" || e.status === "running")
  return (
    <section
      id="exports-list"
      class="card"
      aria-label="Your exports"
      hx-get={live ? "/exports/list" : undefined}
      hx-trigger={live ? "every 1s" : undefined}
      hx-swap={live ? "outerHTML" : undefined}
    >
      {props.exports.length === 0 ? (
        <p class="muted" id="no-exports">
          No exports yet. Use the Export button on the activities page or the dashboard.
        </p>
      ) : (
        <table>
          <caption class="muted">Your recent exports, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Asked for</th>
              <th scope="col">What</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Rows
              </th>
              <th scope="col">File</th>
            </tr>
          </thead>
          <tbody>
            {props.exports.map((e) => (
              <tr data-export-id={e.id} data-status={e.status}>
                <td safe>{e.createdAt}</td>
                <td safe>{`${e.kind} · ${e.format.toUpperCase()}${e.filters ? ` · ${e.filters}` : ""}`}</td>
                <td>
                  <span class={`status ${e.status}`} safe>
                    {e.status}
                  </span>
                  {e.status === "running" && (
                    <progress max="100" value={String(progressOf(e))} aria-label={`Export ${e.id} progress`}></progress>
                  )}
                  {!!e.failureReason && (
                    <span class="failure" safe>
                      {e.failureReason}
                    </span>
                  )}
                </td>
                <td class="num" safe>
                  {`${formatCount(e.rowsWritten)}${e.totalRows === null ? "" : ` of ${formatCount(e.totalRows)}`}`}
                </td>
                <td>
                  {e.status === "ready" ? (
                    <a class="download" href={`/exports/${e.id}/download`} hx-boost="false">
                      Download
                    </a>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p role="status" aria-live="polite" class="muted">
        {live ? "Writing the file…" : ""}
      </p>
    </section>
  )
}

export const ExportsPage = (props: { readonly exports: ReadonlyArray<ExportView> }) => (
  <>
    <h1>Exports</h1>
    <p class="muted">
      Files are written in the background; the download link of a ready file works for 15 minutes each time you open it. Cells
      that begin with =, +, -, @ are written as text, so a spreadsheet never runs them as formulas.
    </p>
    <ExportsList exports={props.exports} />
  </>
)
