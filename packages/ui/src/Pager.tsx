export interface PagerProps {
  readonly previousHref?: string | null | undefined
  readonly nextHref?: string | null | undefined
}

/** Previous / Next links under a paginated table; a missing link shows as plain text. */
export const Pager = (props: PagerProps) => (
  <nav class="pager" aria-label="Pages">
    {props.previousHref ? (
      <a href={props.previousHref} rel="prev" id="previous-page">
        ← Previous
      </a>
    ) : (
      <span class="muted">← Previous</span>
    )}
    {props.nextHref ? (
      <a href={props.nextHref} rel="next" id="next-page">
        Next →
      </a>
    ) : (
      <span class="muted">Next →</span>
    )}
  </nav>
)
