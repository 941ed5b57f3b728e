import { formatTimestamp, isoInstant, type ReaderPreferences } from "./format.ts"

/**
 * What a form action left to say: the outcome in a live region that is always present (a screen
 * reader announces a region whose text changes, not one that arrives already filled), and a refusal
 * as an alert. `id` prefixes both (`<id>-notice`, `<id>-error`).
 */
export const Notices = (props: { readonly id: string; readonly notice?: string | undefined; readonly error?: string | undefined }) => (
  <>
    <div role="status" aria-live="polite" id={`${props.id}-notice`}>
      {!!props.notice && (
        <p class="alert notice" safe>
          {props.notice}
        </p>
      )}
    </div>
    {!!props.error && (
      <p class="alert error" role="alert" id={`${props.id}-error`} safe>
        {props.error}
      </p>
    )}
  </>
)

/** An instant in the reader's zone and format, or "never" when there is none. */
export const TimeOrNever = (props: { readonly at: Date | null; readonly reader: ReaderPreferences }) =>
  props.at === null ? (
    <span class="muted">never</span>
  ) : (
    <time datetime={isoInstant(props.at)} safe>
      {formatTimestamp(props.at, props.reader)}
    </time>
  )
