export interface LoginPageProps {
  readonly csrfToken: string
  readonly login?: string
  readonly error?: string
  /** AWS mode: signed in with Cognito's temporary password; the person now chooses their own. */
  readonly newPassword?: boolean
  /** Where to go once signed in: a path of this site (already checked by safeNext). */
  readonly next?: string
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
    <form method="post" action={props.next === undefined || props.next === "/" ? "/login" : `/login?next=${encodeURIComponent(props.next)}`} id="login-form" hx-boost="false">
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      <label>
        Email
        <input type="email" name="login" autocomplete="username" required value={props.login ?? ""} />
      </label>
      <label>
        {props.newPassword ? "Temporary password (from your invitation email)" : "Password"}
        <input type="password" name="password" autocomplete="current-password" required />
      </label>
      {props.newPassword && (
        <label>
          New password (at least 12 characters; not your email, not a common password)
          <input type="password" name="new_password" autocomplete="new-password" required minlength="12" />
        </label>
      )}
      <button type="submit">Sign in</button>
    </form>
  </section>
)
