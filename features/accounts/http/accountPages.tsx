import { errorSentence } from "@scopeline/ui/ApiError"
import { clientAddressOf } from "@scopeline/ui/clientAddress"
import { decodeInput, formBody, formText } from "@scopeline/ui/decode"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { CSRF_FIELD, csrfToken } from "@scopeline/ui/session"
import { Effect, Either } from "effect"
import { Elysia } from "elysia"
import { PasswordChange, Profile, ProfileChange } from "../Profile.ts"
import type { Principal, User } from "../User.ts"
import { AccountPage, type AccountPageProps } from "../views/AccountPage.tsx"
import { sessionStarted } from "./authPages.tsx"
import { guard } from "./guard.ts"
import { currentUser, renderPage, signedIn } from "./render.tsx"
import type { AccountsServices } from "./services.ts"

const field = formText

// Every zone the runtime knows, UTC first: what a timezone may be set to.
const TIMEZONES = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((zone) => zone !== "UTC")]

/** Only these notices, by code: a notice from the query string is never echoed as text. */
const NOTICES: Record<string, string> = {
  password: "Your password was changed. Your other sessions were signed out.",
}

export const accountPages = (respond: Responder<AccountsServices>) => {
  const { page } = pageResponder(respond)

  const accountPage = (request: Request, principal: Principal, user: User, status: number, extra: Partial<AccountPageProps> = {}) =>
    Effect.promise(() =>
      renderPage(
        request,
        { title: "Your account", status, principal, user, location: "/account" },
        <AccountPage
          email={user.email}
          role={user.role}
          firstname={user.firstName ?? ""}
          lastname={user.lastName ?? ""}
          timezone={user.timezone}
          timeFormat={user.timeFormat}
          marketingOptedIn={user.marketingOptedIn}
          timezones={TIMEZONES.includes(user.timezone) ? TIMEZONES : [user.timezone, ...TIMEZONES]}
          csrfToken={csrfToken(request).token}
          {...extra}
        />,
      ),
    )

  return new Elysia({ name: "pages.account" })
    .get("/account", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          const notice = NOTICES[new URL(request.url).searchParams.get("changed") ?? ""]
          return yield* accountPage(request, principal, user, 200, notice === undefined ? {} : { notice })
        }),
      ),
    )
    .post(
      "/account",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view", "change")
            const form = yield* formBody(request)
            const before = yield* currentUser(principal)
            const change = yield* decodeInput(ProfileChange, "account change")({
              identity: { firstname: field(form, "firstname") ?? null, lastname: field(form, "lastname") ?? null },
              preferences: {
                timezone: field(form, "timezone") ?? before.timezone,
                time_format: Number(field(form, "time_format") ?? before.timeFormat),
                marketing_opted_in: field(form, "marketing_opted_in") === "true",
              },
            }).pipe(Effect.either)
            if (Either.isLeft(change)) {
              // What was typed stays in the form to be corrected; a choice the lists lack cannot be shown.
              const typedFormat = field(form, "time_format")
              return yield* accountPage(request, principal, before, 400, {
                profileError: errorSentence(change.left),
                firstname: field(form, "firstname") ?? "",
                lastname: field(form, "lastname") ?? "",
                marketingOptedIn: field(form, "marketing_opted_in") === "true",
                ...(typedFormat === "12" || typedFormat === "24" ? { timeFormat: typedFormat === "12" ? 12 : 24 } : {}),
                ...(TIMEZONES.includes(field(form, "timezone") ?? "") ? { timezone: field(form, "timezone") } : {}),
              })
            }
            const user = yield* (yield* Profile).update(principal, change.right, before)
            return yield* accountPage(request, principal, user, 200, { notice: "Saved. Times on every page now follow these preferences." })
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/account/password",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const form = yield* formBody(request)
            const principal = yield* guard(request, "view", "change", field(form, CSRF_FIELD))
            const user = yield* currentUser(principal)
            const change = { current_password: field(form, "current_password") ?? "", new_password: field(form, "new_password") ?? "" }
            const outcome = yield* decodeInput(PasswordChange, "password change")(change).pipe(
              Effect.flatMap((valid) => Profile.pipe(Effect.flatMap((profile) => profile.changePassword(principal, user, valid, clientAddressOf(request))))),
              Effect.either,
            )
            if (Either.isLeft(outcome)) {
              const error = outcome.left
              return yield* accountPage(request, principal, user, error.status, { passwordError: error.message })
            }
            return sessionStarted(request, outcome.right, "/account?changed=password")
          }),
        ),
      { parse: "none" },
    )
}
