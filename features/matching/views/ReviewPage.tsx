import { formatCount, formatEmissions, formatFactorValue } from "@scopeline/ui/format"
import { Notices } from "@scopeline/ui/Notices"
import type { FactorBrief } from "../ReviewRepo.ts"

/** One key of the queue as the page shows it, with what a refused decision on it left to say. */
export interface ReviewItemView {
  readonly matchKey: string
  readonly description: string
  readonly unit: string
  /** The unit's dimension in words ("passenger distance"); null when Scopeline cannot convert the unit. */
  readonly dimension: string | null
  readonly geography: string | null
  readonly activityCount: number
  readonly failed: number
  readonly kgCo2e: string
  /** The activity decisions on this key are addressed to. */
  readonly activityId: string
  readonly factor: FactorBrief | null
  readonly confidence: string | null
  readonly candidates: ReadonlyArray<{ readonly factor: FactorBrief; readonly confidence: number }>
  /** Why the last decision on this key was refused, and the note as it was typed. */
  readonly error?: string | undefined
  readonly note?: string | undefined
}

/** Where the page is in the queue: carried by every form so a decision comes back to the same page. */
export interface QueuePosition {
  readonly cursor: string | undefined
  readonly limit: number | undefined
}

export interface ReviewPageProps {
  readonly items: ReadonlyArray<ReviewItemView>
  /** Accountants and admins decide; everyone else reads. */
  readonly editable: boolean
  readonly position: QueuePosition
  readonly nextHref: string | null
  readonly firstHref: string | null
  readonly notice?: string | undefined
  readonly error?: string | undefined
}

export const percent = (confidence: number | string) => `${Math.round(Number(confidence) * 100)}%`

const PositionFields = (props: { readonly position: QueuePosition }) => (
  <>
    {props.position.cursor !== undefined && <input type="hidden" name="cursor" value={props.position.cursor} />}
    {props.position.limit !== undefined && <input type="hidden" name="limit" value={String(props.position.limit)} />}
  </>
)

/** A factor by name, linked to its catalogue page, with its reference and its value per unit, to compare. */
const FactorName = (props: { readonly id: string; readonly factor: FactorBrief; readonly extra?: string | undefined }) => (
  <span id={props.id}>
    <a href={`/catalogue/${props.factor.id}`} safe>
      {props.factor.name}
    </a>{" "}
    <span class="muted" safe>
      {[props.factor.ref, `${formatFactorValue(props.factor.factorValue)} ${props.factor.factorUnit} per ${props.factor.unit}`, ...(props.extra === undefined ? [] : [props.extra])].join(" · ")}
    </span>
  </span>
)

const decideFormId = (activityId: string) => `decide-${activityId}`

/**
 * Catalogue factors found for one key, each with a Use button that submits that key's decision form
 * (so the note typed there goes with it). What GET /review/factors answers into the key's results.
 */
export const FactorResults = (props: {
  readonly activityId: string
  readonly q: string
  readonly dimension: string | null
  readonly total: number
  readonly factors: ReadonlyArray<FactorBrief>
}) => {
  const within = props.dimension === null ? "" : ` measured in ${props.dimension}`
  return (
    <>
      <p class="muted search-summary" safe>
        {props.q === ""
          ? "Type a few words to search the catalogue."
          : props.total === 0
            ? `No factors${within} match “${props.q}”.`
            : `${formatCount(props.total)} ${props.total === 1 ? "factor" : "factors"}${within} match “${props.q}”${props.total > props.factors.length ? `; the best ${formatCount(props.factors.length)} are shown` : ""}.`}
      </p>
      {props.factors.length > 0 && (
        <ul class="candidates found">
          {props.factors.map((factor, i) => (
            <li data-factor-id={factor.id}>
              <FactorName id={`found-${props.activityId}-${i}`} factor={factor} />
              <button type="submit" form={decideFormId(props.activityId)} name="use_factor_id" value={factor.id} class="use" aria-describedby={`found-${props.activityId}-${i}`}>
                Use
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

const ReviewItem = (props: { readonly item: ReviewItemView; readonly editable: boolean; readonly position: QueuePosition }) => {
  const { item } = props
  const id = item.activityId
  const heading = `item-${id}-heading`
  return (
    <li>
      <article class="card review-item" data-match-key={item.matchKey} aria-labelledby={heading}>
        <h2 id={heading} safe>
          {item.description}
        </h2>
        {props.editable && item.factor !== null && (
          <label class="select">
            <input type="checkbox" name="activity_id" value={id} form="review-bulk" class="select-key" /> Select for “Accept selected”
          </label>
        )}
        <dl class="facts">
          <dt>Unit</dt>
          <dd safe>{item.unit}</dd>
          <dt>Geography</dt>
          <dd safe>{item.geography ?? "—"}</dd>
          <dt>Activities</dt>
          <dd class="activity-count" safe>
            {formatCount(item.activityCount)}
          </dd>
          <dt>Emissions</dt>
          {/* Without a factor nothing was calculated: a 0 would read as a calculated zero. */}
          <dd class="emissions" safe>
            {item.factor === null ? "— (not calculated: no factor)" : formatEmissions(item.kgCo2e)}
          </dd>
          <dt>Current factor</dt>
          <dd class="current-factor">
            {item.factor === null ? (
              <span class="muted">none: the matcher found no factor that fits</span>
            ) : (
              <FactorName
                id={`current-${id}`}
                factor={item.factor}
                extra={item.confidence === null ? undefined : `${percent(item.confidence)} confidence`}
              />
            )}
          </dd>
          <dt>Failed</dt>
          <dd class="failed-count" safe>
            {formatCount(item.failed)}
          </dd>
        </dl>
        {props.editable ? (
          <form method="post" action="/review/decide" id={decideFormId(id)} class="decide">
            {/* The form's default button, so Enter in the note field submits nothing (rather than the first candidate). */}
            <button type="submit" disabled hidden aria-hidden="true"></button>
            <input type="hidden" name="activity_id" value={id} />
            <PositionFields position={props.position} />
            {!!item.error && (
              <p class="alert error" role="alert" id={`decide-${id}-error`} safe>
                {item.error}
              </p>
            )}
            <label>
              Note for the decision (optional, kept in each activity's history)
              <input type="text" name="note" maxlength="2000" value={item.note ?? ""} />
            </label>
            <Candidates item={item} editable />
            {item.factor !== null && (
              <button type="submit" name="accept" value="true" class="accept" aria-describedby={`current-${id}`}>
                Accept the current factor
              </button>
            )}
          </form>
        ) : (
          <Candidates item={item} editable={false} />
        )}
        {props.editable && (
          <>
            <form
              method="get"
              action="/review/factors"
              class="factor-search filters"
              role="search"
              aria-label={`Search the catalogue for “${item.description}”`}
              hx-get="/review/factors"
              hx-target={`#factor-results-${id}`}
              hx-swap="innerHTML"
              hx-push-url="false"
            >
              <input type="hidden" name="for" value={id} />
              <input type="hidden" name="unit" value={item.unit} />
              <label>
                <span safe>{item.dimension === null ? "Search the catalogue" : `Search the catalogue (factors in ${item.dimension})`}</span>
                <input type="search" name="q" maxlength="200" placeholder="taxi, rail, hotel…" />
              </label>
              <button type="submit">Search</button>
            </form>
            <div id={`factor-results-${id}`} class="factor-results" aria-live="polite"></div>
          </>
        )}
      </article>
    </li>
  )
}

const Candidates = (props: { readonly item: ReviewItemView; readonly editable: boolean }) => {
  const id = props.item.activityId
  return (
    <>
      <h3 id={`candidates-${id}`}>The matcher's candidates</h3>
      {props.item.candidates.length === 0 ? (
        <p class="muted">The matcher offered no candidates{props.editable ? ": search the catalogue below." : "."}</p>
      ) : (
        <ul class="candidates" aria-labelledby={`candidates-${id}`}>
          {props.item.candidates.map(({ factor, confidence }, i) => (
            <li data-factor-id={factor.id}>
              <FactorName
                id={`candidate-${id}-${i}`}
                factor={factor}
                extra={`${percent(confidence)}${props.item.factor?.id === factor.id ? " · current" : ""}`}
              />
              {props.editable && (
                <button type="submit" name="use_factor_id" value={factor.id} class="use" aria-describedby={`candidate-${id}-${i}`}>
                  Use this factor
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}

/** /review: the keys that need a person, largest emissions first, each with its candidates and a catalogue search. */
export const ReviewPage = (props: ReviewPageProps) => {
  const acceptable = props.editable && props.items.some((item) => item.factor !== null)
  return (
    <>
      <h1>Review matches</h1>
      <p class="muted">
        Each entry is one match key: every activity with the same description, unit and geography, in every upload. A
        decision applies to all of them now, and to the key in later uploads.
      </p>
      <Notices id="review" notice={props.notice} error={props.error} />
      {acceptable && (
        <form method="post" action="/review/accept" id="review-bulk" class="filters">
          <PositionFields position={props.position} />
          <button type="submit">Accept selected</button>
          <span class="muted">accepts the current factor of each selected key</span>
        </form>
      )}
      {props.items.length === 0 ? (
        <p id="review-empty" class="muted">
          Nothing needs review{props.firstHref === null ? "." : " on this page."}
        </p>
      ) : (
        <ol class="review-items" id="review-items">
          {props.items.map((item) => (
            <ReviewItem item={item} editable={props.editable} position={props.position} />
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages of the queue">
        {props.firstHref === null ? <span class="muted">First page</span> : <a href={props.firstHref}>First page</a>}
        {props.nextHref === null ? (
          <span class="muted">Next page</span>
        ) : (
          <a href={props.nextHref} rel="next" id="next-page">
            Next page
          </a>
        )}
      </nav>
    </>
  )
}
