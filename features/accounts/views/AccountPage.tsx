import { Notices } from "@scopeline/ui/Notices"
import { MIN_PASSWORD_LENGTH } from "../PasswordRules.ts"

export interface AccountPageProps {
  readonly email: string
  readonly role: string
  readonly firstname: string
  readonly lastname: string
  readonly timezone: string
  readonly timeFormat: 12 | 24
  readonly marketingOptedIn: boolean
  readonly timezones: ReadonlyArray<string>
  readonly csrfToken: string
  readonly notice?: string
  readonly profileError?: string
  readonly passwordError?: string
}

/** /account: your name, how dates and times are shown to you, your password. */
export const AccountPage = (props: AccountPageProps) => (
  <>
    <h1>Your account</h1>
    <p>
      <span safe>{props.email}</span> · <span safe>{props.role}</span>
    </p>
    <Notices id="account" notice={props.notice} />
    <section id="profile">
      <h2>Name and preferences</h2>
      {!!props.profileError && (
        <p class="alert error" role="alert" id="profile-error" safe>
          {props.profileError}
        </p>
      )}
      <form method="post" action="/account" id="profile-form">
        <label>
          First name
          <input type="text" name="firstname" autocomplete="given-name" maxlength="100" value={props.firstname} />
        </label>
        <label>
          Last name
          <input type="text" name="lastname" autocomplete="family-name" maxlength="100" value={props.lastname} />
        </label>
        <label for="timezone">Timezone (every time on the pages is shown in it)</label>
        <select name="timezone" id="timezone">
          {props.timezones.map((zone) => (
            <option value={zone} selected={zone === props.timezone} safe>
              {zone}
            </option>
          ))}
        </select>
        <label for="time_format">Time format</label>
        <select name="time_format" id="time_format">
          <option value="24" selected={props.timeFormat === 24}>
            24-hour clock
          </option>
          <option value="12" selected={props.timeFormat === 12}>
            12-hour clock (AM and PM)
          </option>
        </select>
        <label>
          <input type="checkbox" name="marketing_opted_in" value="true" checked={props.marketingOptedIn} /> Send me product news
        </label>
        <button type="submit">Save</button>
      </form>
    </section>
    <section id="password">
      <h2>Password</h2>
      {!!props.passwordError && (
        <p class="alert error" role="alert" id="password-error" safe>
          {props.passwordError}
        </p>
      )}
      {/* A full page load: a new password starts a new session, which changes the CSRF token. */}
      <form method="post" action="/account/password" id="password-form" hx-boost="false">
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        <label>
          Current password
          <input type="password" name="current_password" autocomplete="current-password" required />
        </label>
        <label>
          New password
          <input
            type="password"
            name="new_password"
            autocomplete="new-password"
            required
            minlength={String(MIN_PASSWORD_LENGTH)}
            aria-describedby="new-password-rules"
          />
        </label>
        <p class="muted" id="new-password-rules">
          At least {MIN_PASSWORD_LENGTH} characters; not your email, and not a common password. Changing it signs out your other sessions.
        </p>
        <button type="submit">Change password</button>
      </form>
    </section>
  </>
)
