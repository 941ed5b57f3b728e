import { formatCount, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"
import { Pager } from "@scopeline/ui/Pager"
export interface UploadRow {
  readonly id: string
  readonly filename: string | null
  readonly status: string
  readonly rowCount: number | null
  readonly createdAt: Date
  readonly failureReason: string | null
}

export interface UploadsPageProps {
  readonly canUpload: boolean
  readonly maxMegabytes: number
  readonly uploads: ReadonlyArray<UploadRow>
  readonly offset: number
  readonly limit: number
  readonly total: number
  readonly hints: boolean
  readonly reader: ReaderPreferences
}

/** Upload form (for roles that may upload) and the list of uploads, newest first. */
export const UploadsPage = (props: UploadsPageProps) => (
  <>
    <h1>Uploads</h1>
    {props.canUpload && (
      <section class="card" id="upload-card">
        <h2>Upload activities</h2>
        <p class="muted">
          A CSV file with the columns <code>description</code>, <code>quantity</code>, <code>unit</code> and{" "}
          <code>date</code> (YYYY-MM-DD); optional <code>category</code>, <code>geography</code> (country code),{" "}
          <code>period_start</code>, <code>period_end</code>, <code>reference</code>, <code>site</code> (a site's code, from
          the Sites page). Up to {props.maxMegabytes} MB.
          The whole file is rejected if any row is invalid, with the list of problems.
        </p>
        <p>
          <a id="activity-template" href="/v1/templates/activities.csv" download="scopeline-activities-template.csv" hx-boost="false">
            Download the CSV template
          </a>{" "}
          (the columns and three example rows).
        </p>
        {props.hints && (
          <p class="muted" id="upload-hints">
            Large files: save as "CSV UTF-8", keep one activity per row, and split by year rather than by
            month: a rejected file tells you every problem at once.
          </p>
        )}
        <form id="upload-form" hx-boost="false">
          <label for="upload-file">Activity file (CSV)</label>
          <input type="file" name="file" id="upload-file" accept=".csv,text/csv" required />
          <button type="submit">Upload</button>
          <progress id="upload-progress" max="100" value="0" aria-label="Upload progress" hidden></progress>
          <p id="upload-message" role="status" aria-live="polite"></p>
        </form>
      </section>
    )}
    <section>
      <h2>Recent uploads</h2>
      {props.uploads.length === 0 ? (
        <p class="muted">No uploads yet.</p>
      ) : (
        <table id="uploads-table">
          <thead>
            <tr>
              <th>File</th>
              <th>Status</th>
              <th class="num">Rows</th>
              <th>Uploaded</th>
            </tr>
          </thead>
          <tbody>
            {props.uploads.map((upload) => (
              <tr>
                <td>
                  <a href={`/uploads/${upload.id}`} safe>
                    {upload.filename ?? upload.id}
                  </a>
                </td>
                <td>
                  <span class={`status ${upload.status}`} safe>
                    {upload.status}
                  </span>
                  {!!upload.failureReason && (
                    <div class="muted" safe>
                      {upload.failureReason}
                    </div>
                  )}
                </td>
                <td class="num" safe>
                  {upload.rowCount === null ? "—" : formatCount(upload.rowCount)}
                </td>
                <td>
                  <time datetime={isoInstant(upload.createdAt)} safe>
                    {formatTimestamp(upload.createdAt, props.reader)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        previousHref={props.offset > 0 ? `/uploads?offset=${Math.max(0, props.offset - props.limit)}` : null}
        nextHref={props.offset + props.limit < props.total ? `/uploads?offset=${props.offset + props.limit}` : null}
      />
    </section>
  </>
)
