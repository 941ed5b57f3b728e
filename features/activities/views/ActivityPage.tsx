import { formatEmissions, formatFactorValue, formatKilograms, formatQuantity, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"
import type { Calculation } from "../Calculation.ts"
import { Notices } from "@scopeline/ui/Notices"

/** How a review status reads on the pages; an activity without a factor has none. */
export const reviewStatusText: Readonly<Record<string, string>> = {
  needs_review: "Needs review",
  auto_accepted: "Auto-accepted",
  reviewed: "Reviewed",
}

const SOURCES: Readonly<Record<string, string>> = {
  ai: "Matcher",
  cache: "Match cache",
  manual: "Person",
  recalculation: "Recalculation",
}

const SCOPES: Readonly<Record<string, string>> = {
  key: "every activity with this match key",
  activity: "this activity only",
}

const percent = (confidence: string) => `${Math.round(Number(confidence) * 100)}%`

export interface ActivityFactorView {
  readonly id: string
  readonly name: string
  readonly ref: string | null
  readonly source: string | null
  readonly year: number | null
  readonly factorSet: string | null
  readonly geography: string | null
  readonly licence: string | null
}

export interface ActivityDetailView {
  readonly id: string
  readonly description: string
  readonly quantity: string | null
  readonly unit: string | null
  readonly date: string | null
  readonly periodStart: string | null
  readonly periodEnd: string | null
  readonly category: string | null
  readonly geography: string | null
  readonly reference: string | null
  readonly site: { readonly id: string; readonly code: string } | null
  readonly uploadId: string
  readonly rowNumber: number | null
  readonly submittedBy: string | null
  readonly status: string
  readonly emissionsKg: string | null
  /** Quantity × conversion × factor, when the activity is calculated. */
  readonly calculation: Calculation | null
  readonly factor: ActivityFactorView | null
  readonly matchSource: string | null
  readonly confidence: string | null
  readonly matchKey: string | null
  readonly reviewStatus: string | null
  readonly decisionScope: string | null
  readonly failureReason: string | null
  readonly createdAt: Date
}

export interface HistoryFactor {
  readonly id: string
  readonly ref: string
  readonly name: string
}

export interface HistoryEntryView {
  readonly at: Date
  readonly by: string | null
  readonly source: string
  readonly fromFactor: HistoryFactor | null
  readonly toFactor: HistoryFactor | null
  readonly fromKg: string | null
  readonly toKg: string | null
  readonly note: string | null
}

export interface ActivityPageProps {
  readonly activity: ActivityDetailView
  readonly history: ReadonlyArray<HistoryEntryView>
  readonly reader: ReaderPreferences
  /** Accountants and admins may ask the matcher again. */
  readonly canRematch: boolean
  readonly notice?: string | undefined
  readonly error?: string | undefined
}

const FactorLink = (props: { readonly factor: HistoryFactor | null }) =>
  props.factor === null ? (
    <span class="muted">none</span>
  ) : (
    <a href={`/catalogue/${props.factor.id}`} safe>
      {props.factor.name}
    </a>
  )

/** "88.4 MWh × 1,000 kWh per MWh × 0.49874 kg CO2e per kWh = 44,088.616 kg CO2e": every term, to multiply out. */
const calculationText = (c: Calculation) =>
  [
    `${formatQuantity(c.quantity)} ${c.unit}`,
    ...(c.conversion === null ? [] : [`${formatQuantity(c.conversion.ratio)} ${c.conversion.to} per ${c.conversion.from}`]),
    `${formatFactorValue(c.factorValue)} ${c.factorUnit} per ${c.perUnit}`,
  ].join(" × ") + ` = ${formatKilograms(c.emissionsKg)}`

const kgOrDash = (kg: string | null) => (kg === null ? "—" : formatEmissions(kg))

/** /activities/:id: one activity, the factor it uses and where that came from, and every change of it. */
export const ActivityPage = (props: ActivityPageProps) => {
  const a = props.activity
  return (
    <>
      <p>
        <a href="/activities">All activities</a>
      </p>
      <h1 safe>{a.description}</h1>
      <Notices id="activity" notice={props.notice} error={props.error} />
      <section id="activity-facts" aria-labelledby="activity-facts-heading">
        <h2 id="activity-facts-heading">The activity</h2>
        <dl class="facts">
          <dt>Quantity</dt>
          <dd id="activity-quantity" safe>
            {[a.quantity === null ? null : formatQuantity(a.quantity), a.unit].filter((part) => part !== null).join(" ") || "—"}
          </dd>
          <dt>Date</dt>
          <dd safe>{a.date ?? (a.periodStart !== null ? `${a.periodStart} to ${a.periodEnd ?? ""}` : "—")}</dd>
          <dt>Category</dt>
          <dd safe>{a.category ?? "—"}</dd>
          <dt>Geography</dt>
          <dd safe>{a.geography ?? "—"}</dd>
          <dt>Reference</dt>
          <dd safe>{a.reference ?? "—"}</dd>
          <dt>Site</dt>
          <dd>
            {a.site === null ? (
              "—"
            ) : (
              <a href={`/sites/${a.site.id}`} safe>
                {a.site.code}
              </a>
            )}
          </dd>
          <dt>Upload</dt>
          <dd>
            <a href={`/uploads/${a.uploadId}`} safe>
              {a.rowNumber === null ? "its upload" : `row ${a.rowNumber} of its upload`}
            </a>
          </dd>
          <dt>Submitted by</dt>
          <dd safe>{a.submittedBy ?? "—"}</dd>
          <dt>Imported</dt>
          <dd>
            <time datetime={isoInstant(a.createdAt)} safe>
              {formatTimestamp(a.createdAt, props.reader)}
            </time>
          </dd>
          <dt>Status</dt>
          <dd>
            <span class={`status ${a.status}`} id="activity-status" safe>
              {a.status}
            </span>
          </dd>
          <dt>Emissions</dt>
          <dd id="activity-emissions" safe>
            {kgOrDash(a.status === "calculated" ? a.emissionsKg : null)}
          </dd>
          {a.calculation === null ? null : (
            <>
              <dt>Calculation</dt>
              <dd id="activity-calculation" safe>
                {calculationText(a.calculation)}
              </dd>
            </>
          )}
          {!!a.failureReason && (
            <>
              <dt>Why it failed</dt>
              <dd class="failure" safe>
                {a.failureReason}
              </dd>
            </>
          )}
        </dl>
      </section>
      <section id="activity-factor" aria-labelledby="activity-factor-heading">
        <h2 id="activity-factor-heading">Emission factor</h2>
        {a.factor === null ? (
          <p class="muted" id="no-factor">
            No factor applies yet.
          </p>
        ) : (
          <dl class="facts">
            <dt>Factor</dt>
            <dd>
              <a href={`/catalogue/${a.factor.id}`} id="activity-factor-link" safe>
                {a.factor.name}
              </a>
            </dd>
            <dt>Reference</dt>
            <dd safe>{a.factor.ref ?? "—"}</dd>
            <dt>Source</dt>
            <dd safe>{[a.factor.source, a.factor.year === null ? null : String(a.factor.year)].filter((part) => part !== null).join(" ") || "—"}</dd>
            <dt>Factor set</dt>
            <dd id="activity-factor-set" safe>
              {a.factor.factorSet ?? "—"}
            </dd>
            <dt>Geography</dt>
            <dd safe>{a.factor.geography ?? "—"}</dd>
            <dt>Licence</dt>
            <dd safe>{a.factor.licence ?? "—"}</dd>
          </dl>
        )}
        <dl class="facts">
          <dt>Matched by</dt>
          <dd id="activity-match" safe>
            {a.matchSource === null ? "—" : `${SOURCES[a.matchSource] ?? a.matchSource}${a.confidence === null ? "" : ` · ${percent(a.confidence)} confidence`}`}
          </dd>
          <dt>Review status</dt>
          <dd id="activity-review-status" safe>
            {a.reviewStatus === null ? "—" : (reviewStatusText[a.reviewStatus] ?? a.reviewStatus)}
          </dd>
          <dt>Decision applies to</dt>
          <dd safe>{a.decisionScope === null ? "—" : (SCOPES[a.decisionScope] ?? a.decisionScope)}</dd>
          <dt>Match key</dt>
          <dd>{a.matchKey === null ? "—" : <code safe>{a.matchKey}</code>}</dd>
        </dl>
        {props.canRematch && a.matchKey !== null && (
          <form method="post" action={`/activities/${a.id}/rematch`} id="rematch-form" class="filters">
            <button type="submit" aria-describedby="rematch-help">
              Re-match
            </button>
            <span class="muted" id="rematch-help">
              Asks the matcher again for every activity with this match key, skipping the cache. A person's decision on the key stays.
            </span>
          </form>
        )}
        {a.reviewStatus === "needs_review" && (
          <p>
            <a href="/review">Decide it in the review queue</a>
          </p>
        )}
      </section>
      <section id="activity-history" aria-labelledby="activity-history-heading">
        <h2 id="activity-history-heading">History</h2>
        {props.history.length === 0 ? (
          <p class="muted" id="no-history">
            Its factor has not been set or changed yet.
          </p>
        ) : (
          <table id="history-table">
            <caption>Every change of this activity's factor or emissions, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">By</th>
                <th scope="col">Source</th>
                <th scope="col">Factor</th>
                <th scope="col">Emissions</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {props.history.map((entry) => (
                <tr data-source={entry.source}>
                  <td>
                    <time datetime={isoInstant(entry.at)} safe>
                      {formatTimestamp(entry.at, props.reader)}
                    </time>
                  </td>
                  <td class="by" safe>
                    {entry.by ?? "—"}
                  </td>
                  <td class="source" safe>
                    {SOURCES[entry.source] ?? entry.source}
                  </td>
                  <td class="factor-change">
                    <FactorLink factor={entry.fromFactor} /> → <FactorLink factor={entry.toFactor} />
                  </td>
                  <td class="emissions-change" safe>
                    {`${kgOrDash(entry.fromKg)} → ${kgOrDash(entry.toKg)}`}
                  </td>
                  <td class="note" safe>
                    {entry.note ?? ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  )
}
