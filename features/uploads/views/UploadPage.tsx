import { formatCount } from "@scopeline/ui/format"

export interface RowErrorView {
  readonly row: number | null
  readonly column: string | null
  readonly value: string | null
  readonly message: string
}

export interface UploadStatusProps {
  readonly id: string
  readonly filename: string | null
  readonly status: string
  readonly rowCount: number | null
  readonly errorCount: number | null
  readonly failureReason: string | null
  readonly counts: Readonly<Record<string, number>>
  readonly rowErrors: ReadonlyArray<RowErrorView>
  /** While something is still moving, the panel asks for itself again every second. */
  readonly live: boolean
}

const STEPS = ["pending_upload", "uploaded", "parsing", "parsed"] as const
const LABELS: Record<string, string> = {
  pending_upload: "Waiting for the file",
  uploaded: "Uploaded",
  parsing: "Reading rows",
  parsed: "Imported",
  failed: "Rejected",
}

/**
 * The live status panel of one upload: parse steps, matching counts, and the row errors. While it
 * polls, each answer is morphed into the panel rather than replacing it, so the two status lines
 * stay the same live regions and a screen reader announces what changed, once, instead of a fresh
 * panel every second.
 */
export const UploadStatus = (props: UploadStatusProps) => {
  // A rejected file was uploaded and read (only reading rejects one): those steps happened.
  const failed = props.status === "failed"
  const reached = failed ? STEPS.indexOf("parsing") : STEPS.indexOf(props.status as (typeof STEPS)[number])
  const matched = (props.counts.calculated ?? 0) + (props.counts.failed ?? 0)
  const total = Object.values(props.counts).reduce((a, b) => a + b, 0)
  return (
    <section
      id="upload-status"
      class="card"
      aria-label="Upload status"
      data-status={props.status}
      hx-get={props.live ? `/uploads/${props.id}/status` : undefined}
      hx-trigger={props.live ? "every 1s" : undefined}
      hx-swap={props.live ? "outerMorph" : undefined}
    >
      <ol class="steps">
        {STEPS.map((step, index) => (
          <li class={index <= reached ? "done" : ""} aria-current={index === reached && !failed ? "step" : undefined} safe>
            {`${index <= reached ? "✓ " : ""}${LABELS[step] ?? step}`}
          </li>
        ))}
        {failed && (
          <li class="failed" aria-current="step">
            Rejected
          </li>
        )}
      </ol>
      <p id="upload-summary" role="status" aria-live="polite" aria-atomic="true">
        Status: <span class={`status ${props.status}`} id="upload-state" safe>{props.status}</span>
        <span safe>{props.rowCount === null ? "" : ` · ${formatCount(props.rowCount)} ${props.rowCount === 1 ? "activity" : "activities"}`}</span>
      </p>
      {!!props.failureReason && (
        <p class="alert error" id="failure-reason" role="alert" safe>
          {props.failureReason}
        </p>
      )}
      <p id="matching-summary" role="status" aria-live="polite" aria-atomic="true">
        {total > 0 ? `Matching: ${formatCount(matched)} of ${formatCount(total)} settled` : ""}
      </p>
      {total > 0 && (
        <div id="matching-progress">
          <progress max={String(total)} value={String(matched)} aria-label="Matching progress"></progress>
          <p class="counts">
            {Object.entries(props.counts).map(([status, count]) => (
              <span class={`status ${status}`} safe>
                {`${status}: ${formatCount(count)}`}
              </span>
            ))}
          </p>
          <p>
            <a href={`/activities?upload_id=${props.id}`}>See the activities</a>
          </p>
        </div>
      )}
      {props.rowErrors.length > 0 && (
        <>
          <h2>
            Problems found
            {props.errorCount !== null && props.errorCount > props.rowErrors.length ? ` (first ${formatCount(props.rowErrors.length)})` : ""}
          </h2>
          <table id="row-errors">
            <thead>
              <tr>
                <th>Row</th>
                <th>Column</th>
                <th>Value</th>
                <th>Problem</th>
              </tr>
            </thead>
            <tbody>
              {props.rowErrors.map((error) => (
                <tr>
                  <td safe>{error.row === null ? "—" : formatCount(error.row)}</td>
                  <td safe>{error.column ?? "—"}</td>
                  <td>
                    <code safe>{error.value ?? ""}</code>
                  </td>
                  <td safe>{error.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}

export const UploadPage = (props: UploadStatusProps) => (
  <>
    <p>
      <a href="/uploads">← Uploads</a>
    </p>
    <h1 safe>{props.filename ?? "Upload"}</h1>
    <UploadStatus {...props} />
    <p>
      <a href={`/uploads/${props.id}/history`} id="upload-history-link">
        History: who uploaded, confirmed, parsed and calculated it
      </a>
    </p>
  </>
)
