import { formatCount, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"
import { Pager } from "@scopeline/ui/Pager"

export interface RecalculationRowView {
  readonly id: string
  readonly factorSet: string
  /** The one upload it restates, by its label; null for every upload. */
  readonly upload: UploadChoice | null
  readonly preview: boolean
  readonly status: string
  readonly createdAt: Date
  readonly changed: number | null
  readonly unmapped: number | null
}

export interface UploadChoice {
  readonly id: string
  readonly label: string
}

export interface RecalculationFormValues {
  readonly factorSet?: string | undefined
  readonly uploadId?: string | undefined
  readonly preview?: boolean | undefined
}

export const statusText: Readonly<Record<string, string>> = {
  queued: "queued",
  running: "running",
  done: "done",
  failed: "failed",
}

/** Which activities a recalculation restates: every upload's, or one upload's, linked to it. */
export const ScopeOf = (props: { readonly upload: UploadChoice | null }) =>
  props.upload === null ? (
    <>every upload</>
  ) : (
    <a href={`/uploads/${props.upload.id}`} safe>
      {props.upload.label}
    </a>
  )

/** Start a recalculation (or a preview): those who may upload see it. */
const RecalculationForm = (props: {
  readonly sets: ReadonlyArray<{ readonly id: string; readonly current: boolean }>
  readonly uploads: ReadonlyArray<UploadChoice>
  readonly values: RecalculationFormValues
  readonly error?: string | undefined
}) => (
  <form method="post" action="/recalculations" id="recalculation-form" class="site-form">
    {!!props.error && (
      <p class="alert error" role="alert" id="recalculation-form-error" safe>
        {props.error}
      </p>
    )}
    <label for="recalculation-factor-set">Restate on the factor set</label>
    <select name="factor_set" id="recalculation-factor-set" required>
      {props.sets.map((set) => (
        <option value={set.id} selected={props.values.factorSet === set.id} safe>
          {set.current ? `${set.id} (current)` : set.id}
        </option>
      ))}
    </select>
    <label for="recalculation-upload">Activities</label>
    <select name="upload_id" id="recalculation-upload">
      <option value="">Every upload</option>
      {props.uploads.map((upload) => (
        <option value={upload.id} selected={props.values.uploadId === upload.id} safe>
          {`Only ${upload.label}`}
        </option>
      ))}
      {/* A refused choice that is not among the offered uploads is shown as it was sent. */}
      {!!props.values.uploadId && !props.uploads.some((upload) => upload.id === props.values.uploadId) && (
        <option value={props.values.uploadId} selected safe>
          {`Only upload ${props.values.uploadId}`}
        </option>
      )}
    </select>
    <label>
      <input type="checkbox" name="preview" value="true" checked={props.values.preview ?? true} /> Preview only: show the
      restatement, change nothing
    </label>
    <button type="submit">Start</button>
  </form>
)

/** /recalculations: every recalculation, newest first, and (for accountants and admins) the form to start one. */
export const RecalculationsPage = (props: {
  readonly rows: ReadonlyArray<RecalculationRowView>
  readonly total: number
  readonly reader: ReaderPreferences
  readonly previousHref: string | null
  readonly nextHref: string | null
  readonly form?:
    | {
        readonly sets: ReadonlyArray<{ readonly id: string; readonly current: boolean }>
        readonly uploads: ReadonlyArray<UploadChoice>
        readonly values: RecalculationFormValues
        readonly error?: string | undefined
      }
    | undefined
}) => (
  <>
    <h1>Recalculations</h1>
    <p class="muted">
      A recalculation restates calculated activities on another factor set: each moves to the row with the same source id in
      that set and is priced again. Activities whose row is gone or changed its unit stay as they are and are listed; those
      of another source are left alone. A preview shows the same restatement without changing anything. See the{" "}
      <a href="/catalogue">catalogue</a> for the sets.
    </p>
    {props.form === undefined ? null : (
      <section id="new-recalculation" aria-labelledby="new-recalculation-heading">
        <h2 id="new-recalculation-heading">Start a recalculation</h2>
        <RecalculationForm sets={props.form.sets} uploads={props.form.uploads} values={props.form.values} error={props.form.error} />
      </section>
    )}
    {props.rows.length === 0 ? (
      <p id="no-recalculations" class="muted">
        No recalculations yet.
      </p>
    ) : (
      <table id="recalculations-table">
        <caption safe>{`Recalculations (${formatCount(props.total)})`}</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Factor set</th>
            <th scope="col">Activities</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Moved
            </th>
            <th scope="col" class="num">
              Not mapped
            </th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr data-recalculation={row.id}>
              <td>
                <a href={`/recalculations/${row.id}`}>
                  <time datetime={isoInstant(row.createdAt)} safe>
                    {formatTimestamp(row.createdAt, props.reader)}
                  </time>
                </a>
              </td>
              <td safe>{row.factorSet}</td>
              <td>
                <ScopeOf upload={row.upload} />
              </td>
              <td>{row.preview ? "preview" : "applied"}</td>
              <td safe>{statusText[row.status] ?? row.status}</td>
              <td class="num" safe>
                {row.changed === null ? "—" : formatCount(row.changed)}
              </td>
              <td class="num" safe>
                {row.unmapped === null ? "—" : formatCount(row.unmapped)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <Pager previousHref={props.previousHref} nextHref={props.nextHref} />
  </>
)
