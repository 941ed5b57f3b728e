import { formatCount, formatEmissions, formatQuantity, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"
import { Pager } from "@scopeline/ui/Pager"
import type { Restatement } from "../Recalculation.ts"
import { ScopeOf, statusText, type UploadChoice } from "./RecalculationsPage.tsx"

export interface RecalculationView {
  readonly id: string
  readonly factorSet: string
  readonly upload: UploadChoice | null
  readonly preview: boolean
  readonly status: string
  readonly phase: string
  readonly activitiesInScope: number | null
  readonly error: string | null
  readonly createdAt: Date
  readonly finishedAt: Date | null
  readonly restatement: Restatement | null
}

export interface UnmappedRowView {
  readonly id: string
  readonly row: number | null
  readonly uploadId: string
  readonly description: string
  readonly quantity: string | null
  readonly unit: string | null
  readonly factorRef: string
  readonly message: string
}

type Amounts = Restatement["totals"]["total"]

/** A signed change for a person: "+1.2 kg CO2e", "−3 t CO2e", "no change". */
const changeText = (kg: string) => {
  if (/^-?0(\.0+)?$/.test(kg)) return "no change"
  return kg.startsWith("-") ? `−${formatEmissions(kg.slice(1))}` : `+${formatEmissions(kg)}`
}

const AmountCells = (props: { readonly amounts: Amounts }) => (
  <>
    <td class="num" safe>
      {formatEmissions(props.amounts.before_kg_co2e)}
    </td>
    <td class="num" safe>
      {formatEmissions(props.amounts.after_kg_co2e)}
    </td>
    <td class="num" safe>
      {changeText(props.amounts.change_kg_co2e)}
    </td>
  </>
)

const AmountHeaders = () => (
  <>
    <th scope="col" class="num">
      Before
    </th>
    <th scope="col" class="num">
      After
    </th>
    <th scope="col" class="num">
      Change
    </th>
  </>
)

const scopeName = (scope: number | null) => (scope === null ? "No scope" : `Scope ${scope}`)

const RestatementTables = (props: { readonly restatement: Restatement; readonly preview: boolean }) => {
  const { counts, totals } = props.restatement
  return (
    <section id="restatement" aria-labelledby="restatement-heading">
      <h2 id="restatement-heading">{props.preview ? "Restatement (preview: nothing was changed)" : "Restatement"}</h2>
      <dl class="facts" id="restatement-counts">
        <dt>Calculated activities in scope</dt>
        <dd safe>{formatCount(counts.calculated)}</dd>
        <dt>{props.preview ? "Would move to the set" : "Moved to the set"}</dt>
        <dd id="count-changed" safe>
          {formatCount(counts.changed)}
        </dd>
        <dt>Of those, with other emissions</dt>
        <dd safe>{formatCount(counts.emissions_changed)}</dd>
        <dt>Already on the set</dt>
        <dd safe>{formatCount(counts.already_on_set)}</dd>
        <dt>Not mapped (listed below)</dt>
        <dd id="count-unmapped" safe>
          {formatCount(counts.unmapped)}
        </dd>
        <dt>Of other sources (unchanged)</dt>
        <dd safe>{formatCount(counts.other_sources)}</dd>
      </dl>
      <table id="restatement-by-scope">
        <caption>Totals by scope</caption>
        <thead>
          <tr>
            <th scope="col">Scope</th>
            <AmountHeaders />
          </tr>
        </thead>
        <tbody>
          {totals.by_scope.map((row) => (
            <tr>
              <th scope="row" safe>
                {scopeName(row.scope)}
              </th>
              <AmountCells amounts={row} />
            </tr>
          ))}
          <tr class="total">
            <th scope="row">Total</th>
            <AmountCells amounts={totals.total} />
          </tr>
        </tbody>
      </table>
      {totals.by_scope3_category.length === 0 ? null : (
        <table id="restatement-by-category">
          <caption>Scope 3 by category</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <AmountHeaders />
            </tr>
          </thead>
          <tbody>
            {totals.by_scope3_category.map((row) => (
              <tr>
                <th scope="row" safe>
                  {`Category ${row.category}`}
                </th>
                <AmountCells amounts={row} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

/** /recalculations/:id: where it is, what it restated, and what it could not map. */
export const RecalculationPage = (props: {
  readonly recalculation: RecalculationView
  readonly unmapped: ReadonlyArray<UnmappedRowView>
  readonly unmappedTotal: number
  readonly unmappedOffset: number
  readonly previousHref: string | null
  readonly nextHref: string | null
  readonly reader: ReaderPreferences
}) => {
  const r = props.recalculation
  const settled = r.status === "done" || r.status === "failed"
  return (
    <>
      <h1 safe>{`${r.preview ? "Preview of a recalculation" : "Recalculation"} on ${r.factorSet}`}</h1>
      <p>
        <a href="/recalculations">All recalculations</a>
      </p>
      <dl class="facts" id="recalculation">
        <dt>Status</dt>
        <dd id="recalculation-status" safe>
          {statusText[r.status] ?? r.status}
        </dd>
        <dt>Activities</dt>
        <dd>
          <ScopeOf upload={r.upload} />
        </dd>
        <dt>Asked for</dt>
        <dd>
          <time datetime={isoInstant(r.createdAt)} safe>
            {formatTimestamp(r.createdAt, props.reader)}
          </time>
        </dd>
        {r.finishedAt === null ? null : (
          <>
            <dt>Finished</dt>
            <dd>
              <time datetime={isoInstant(r.finishedAt)} safe>
                {formatTimestamp(r.finishedAt, props.reader)}
              </time>
            </dd>
          </>
        )}
        {r.activitiesInScope === null ? null : (
          <>
            <dt>Activities to move or list</dt>
            <dd safe>{formatCount(r.activitiesInScope)}</dd>
          </>
        )}
      </dl>
      {settled ? null : (
        <p class="muted" id="recalculation-running">
          It runs in the background (now: <span safe>{r.phase}</span>). <a href={`/recalculations/${r.id}`}>Refresh</a> to see
          where it is.
        </p>
      )}
      {r.error === null ? null : (
        <p class="alert error" role="alert" id="recalculation-error" safe>
          {r.error}
        </p>
      )}
      {r.restatement === null ? null : <RestatementTables restatement={r.restatement} preview={r.preview} />}
      {!settled || props.unmappedTotal === 0 ? null : (
        <section id="unmapped" aria-labelledby="unmapped-heading">
          <h2 id="unmapped-heading">Not mapped</h2>
          <p class="muted" safe>
            {`${formatCount(props.unmappedTotal)} activities keep their factor: a person decides what they should be priced on. ` +
              `Shown: ${formatCount(props.unmappedOffset + 1)}–${formatCount(props.unmappedOffset + props.unmapped.length)}.`}
          </p>
          <table id="unmapped-table">
            <caption>Activities not mapped to the set</caption>
            <thead>
              <tr>
                <th scope="col">Activity</th>
                <th scope="col" class="num">
                  Quantity
                </th>
                <th scope="col">Unit</th>
                <th scope="col">Factor kept</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {props.unmapped.map((row) => (
                <tr data-activity={row.id}>
                  <td safe>{row.description}</td>
                  <td class="num" safe>
                    {row.quantity === null ? "" : formatQuantity(row.quantity)}
                  </td>
                  <td safe>{row.unit ?? ""}</td>
                  <td safe>{row.factorRef}</td>
                  <td safe>{row.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager previousHref={props.previousHref} nextHref={props.nextHref} />
        </section>
      )}
    </>
  )
}
