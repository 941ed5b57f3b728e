export interface ErrorPageProps {
  readonly status: number
  readonly title: string
  readonly message: string
  readonly reference?: string
}

export const ErrorPage = (props: ErrorPageProps) => (
  <section class="card narrow" id="error-page">
    <h1 safe>{props.title}</h1>
    <p safe>{props.message}</p>
    {!!props.reference && (
      <p class="muted">
        Reference: <code safe>{props.reference}</code>
      </p>
    )}
    <p>
      <a href="/">Back to the home page</a>
    </p>
  </section>
)
