import type { AuditEvent } from "@scopeline/events"
import { formatTimestamp, isoInstant, type ReaderPreferences, readerZone } from "@scopeline/ui/format"
import { detailText } from "../detailText.ts"

/** The people the log names, by their user id: an email, marked when the account was deleted since. */
export type People = ReadonlyMap<string, string>

const actorOf = (event: AuditEvent, people: People) =>
  event.actor.user_id
    ? (people.get(event.actor.user_id) ?? event.actor.user_id)
    : event.actor.service
      ? `service: ${event.actor.service}`
      : event.actor.email_hash
        ? `email ${event.actor.email_hash.slice(0, 12)}…`
        : "—"

const detailsOf = (event: AuditEvent) =>
  Object.entries(event.details)
    .map(([name, value]) => `${name}: ${detailText(value)}`)
    .join("; ")

/** Events as a table; each id is a link that filters the log by it. */
export const EventsTable = (props: {
  readonly events: ReadonlyArray<AuditEvent>
  readonly people: People
  readonly reader: ReaderPreferences
  readonly linkIds: boolean
}) => (
  <table class="audit-events">
    <thead>
      <tr>
        <th>When</th>
        <th>Category</th>
        <th>Action</th>
        <th>Outcome</th>
        <th>Actor</th>
        <th>Object</th>
        <th>Correlation</th>
        <th>Details</th>
      </tr>
    </thead>
    <tbody>
      {props.events.map((event) => (
        <tr data-action={event.action} data-event={event.event_id}>
          <td>
            <time datetime={isoInstant(event.timestamp)} safe>
              {formatTimestamp(event.timestamp, props.reader, { seconds: true })}
            </time>
          </td>
          <td>{event.category}</td>
          <td safe>{event.action}</td>
          <td safe>{event.outcome.status + (event.outcome.message ? `: ${event.outcome.message}` : "")}</td>
          <td>
            {props.linkIds && event.actor.user_id ? (
              <a href={`/admin/audit?actor_id=${encodeURIComponent(event.actor.user_id)}`} title={event.actor.user_id} safe>
                {actorOf(event, props.people)}
              </a>
            ) : (
              <span safe>{actorOf(event, props.people)}</span>
            )}
          </td>
          <td>
            {props.linkIds ? (
              <a href={`/admin/audit?object_id=${encodeURIComponent(event.object.id)}`} safe>
                {`${event.object.type} ${event.object.id}`}
              </a>
            ) : (
              <span safe>{`${event.object.type} ${event.object.id}`}</span>
            )}
          </td>
          <td>
            {props.linkIds ? (
              <a href={`/admin/audit?correlation_id=${encodeURIComponent(event.correlation.correlation_id)}`} safe>
                {event.correlation.correlation_id}
              </a>
            ) : (
              <code safe>{event.correlation.correlation_id}</code>
            )}
          </td>
          <td class="details" safe>
            {detailsOf(event)}
          </td>
        </tr>
      ))}
    </tbody>
  </table>
)

export interface AuditLogPageProps {
  readonly events: ReadonlyArray<AuditEvent>
  readonly people: People
  readonly actions: ReadonlyArray<string>
  readonly reader: ReaderPreferences
  readonly filters: Readonly<Record<string, string>>
  readonly categories: ReadonlyArray<string>
  readonly nextHref: string | null
  readonly error?: string
}

const FilterField = (props: { readonly name: string; readonly label: string; readonly value: string | undefined; readonly placeholder?: string }) => (
  <label>
    <span safe>{props.label}</span>
    <input type="text" name={props.name} maxlength="200" value={props.value ?? ""} placeholder={props.placeholder ?? ""} />
  </label>
)

/** A filter chosen from a list: `options` are [value, label]; the first choice, `any`, filters nothing. */
const FilterSelect = (props: {
  readonly id: string
  readonly name: string
  readonly label: string
  readonly any: string
  readonly chosen: string | undefined
  readonly options: ReadonlyArray<readonly [string, string]>
}) => (
  <>
    <label for={props.id} safe>
      {props.label}
    </label>
    <select name={props.name} id={props.id}>
      <option value="" safe>
        {props.any}
      </option>
      {props.options.map(([value, label]) => (
        <option value={value} selected={props.chosen === value} safe>
          {label}
        </option>
      ))}
    </select>
  </>
)

/** /admin/audit: the whole log, newest first, filtered by what an auditor knows. */
export const AuditLogPage = (props: AuditLogPageProps) => (
  <>
    <h1>Audit log</h1>
    <form method="get" action="/admin/audit" class="filters" id="audit-filters">
      <FilterSelect id="audit-category" name="category" label="Category" any="any" chosen={props.filters.category} options={props.categories.map((category) => [category, category])} />
      <FilterSelect id="audit-action" name="action" label="Action" any="any" chosen={props.filters.action?.trim().toLowerCase()} options={props.actions.map((action) => [action, action])} />
      <FilterSelect id="audit-actor" name="actor_id" label="Actor" any="anyone" chosen={props.filters.actor_id?.toLowerCase()} options={[...props.people]} />
      <FilterField name="object_id" label="Object id" value={props.filters.object_id} />
      <FilterField name="correlation_id" label="Correlation id" value={props.filters.correlation_id} />
      <FilterField name="from" label={`From (${readerZone(props.reader)})`} value={props.filters.from} placeholder="2026-01-01" />
      <FilterField name="to" label={`To (${readerZone(props.reader)})`} value={props.filters.to} placeholder="2026-12-31" />
      <button type="submit">Filter</button>
    </form>
    {!!props.error && (
      <p class="alert error" role="alert" safe>
        {props.error}
      </p>
    )}
    {props.events.length === 0 ? (
      <p class="muted" id="no-events">
        No events match these filters.
      </p>
    ) : (
      <EventsTable events={props.events} people={props.people} reader={props.reader} linkIds={true} />
    )}
    {props.nextHref !== null && (
      <p>
        <a href={props.nextHref} id="older-events">
          Older events
        </a>
      </p>
    )}
  </>
)

/** /uploads/:id/history: one upload's story, oldest first. */
export const UploadHistoryPage = (props: {
  readonly uploadId: string
  readonly events: ReadonlyArray<AuditEvent>
  readonly people: People
  readonly reader: ReaderPreferences
}) => (
  <>
    <h1>History of this upload</h1>
    <p>
      <a href={`/uploads/${encodeURIComponent(props.uploadId)}`}>Back to the upload</a>
    </p>
    <ol class="history" id="upload-history">
      {props.events.map((event) => (
        <li data-action={event.action}>
          <time datetime={isoInstant(event.timestamp)} safe>
            {formatTimestamp(event.timestamp, props.reader, { seconds: true })}
          </time>{" "}
          <strong safe>{event.action.replaceAll("_", " ")}</strong>{" "}
          <span class="muted" safe>
            {`by ${actorOf(event, props.people)}${event.outcome.message ? ` — ${event.outcome.message}` : ""}${detailsOf(event) ? ` (${detailsOf(event)})` : ""}`}
          </span>
        </li>
      ))}
    </ol>
  </>
)
