export interface LoginPageProps {
  readonly csrfToken: string
  readonly login?: string
  readonly error?: string
}

export const LoginPage = (props: LoginPageProps) => (
  <section class="card narrow">
    <h1>Sign in</h1>
    {!!props.error && (
      <p class="alert error" role="alert" safe>
        {props.error}
      </p>
    )}
    {/* A full page load, not a boosted swap: signing in rotates the CSRF token, which the page body carries. */}
    <form method="post" action="/login" id="login-form" hx-boost="false">
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      <label>
        Email
        <input type="email" name="login" autocomplete="username" required value={props.login ?? ""} />
      </label>
      <label>
        Password
        <input type="password" name="password" autocomplete="current-password" required />
      </label>
      <button type="submit">Sign in</button>
    </form>
  </section>
)
