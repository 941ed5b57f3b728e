import { MIN_PASSWORD_LENGTH } from "../PasswordRules.ts"

export interface AcceptInvitationPageProps {
  readonly csrfToken: string
  readonly token: string
  readonly email: string
  readonly role: string
  readonly firstname?: string
  readonly lastname?: string
  readonly error?: string
}

/** The page at an invitation link: choose a password, and the account exists. */
export const AcceptInvitationPage = (props: AcceptInvitationPageProps) => (
  <section class="card narrow">
    <h1>Join Scopeline</h1>
    <p>
      You are invited as <strong safe>{props.email}</strong>, with the role <strong safe>{props.role}</strong>.
    </p>
    {!!props.error && (
      <p class="alert error" role="alert" id="accept-error" safe>
        {props.error}
      </p>
    )}
    {/* A full page load: accepting signs in, which rotates the CSRF token the page carries. */}
    <form method="post" action="/invitations/accept" id="accept-form" hx-boost="false">
      <input type="hidden" name="_csrf" value={props.csrfToken} />
      <input type="hidden" name="token" value={props.token} />
      <label>
        First name
        <input type="text" name="firstname" autocomplete="given-name" value={props.firstname ?? ""} />
      </label>
      <label>
        Last name
        <input type="text" name="lastname" autocomplete="family-name" value={props.lastname ?? ""} />
      </label>
      <label>
        Password
        <input
          type="password"
          name="password"
          autocomplete="new-password"
          required
          minlength={String(MIN_PASSWORD_LENGTH)}
          aria-describedby="password-rules"
        />
      </label>
      <p class="muted" id="password-rules">
        At least {MIN_PASSWORD_LENGTH} characters; not your email, and not a common password. A few unrelated words work well.
      </p>
      <button type="submit">Create my account</button>
    </form>
  </section>
)
