import { guard } from "./guard.ts"
import { TimeFormat, type User } from "../User.ts"
import { PasswordChange, Profile, ProfileChange } from "../Profile.ts"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { clientAddressOf } from "@scopeline/ui/clientAddress"
import { currentUser } from "./render.tsx"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { AccountsServices } from "./services.ts"

const MeJson = Schema.Struct({
  identity: Schema.Struct({ firstname: Schema.NullOr(Schema.String), lastname: Schema.NullOr(Schema.String) }),
  email: Schema.String,
  role: Schema.String,
  preferences: Schema.Struct({ marketing_opted_in: Schema.Boolean, time_format: TimeFormat, timezone: Schema.String }),
})

/** GET /v1/me's body, also the answer of PATCH /v1/me. */
export const meJson = (user: User): typeof MeJson.Type => ({
  identity: { firstname: user.firstName, lastname: user.lastName },
  email: user.email,
  role: user.role,
  preferences: { marketing_opted_in: user.marketingOptedIn, time_format: user.timeFormat, timezone: user.timezone },
})

/** The OpenAPI entries of the routes below, attached to each as its `detail`. */
export const meApiDocs = {
  update: documented({
    summary: "Change your name and preferences (timezone, 12/24-hour time, marketing)",
    description: "Only what is given changes. An unknown IANA timezone or a bad value is 400 naming the field.",
    tag: "sign-in",
    access: "view",
    changes: true,
    body: ProfileChange,
    responses: { 200: { description: "The account as it is now, as GET /v1/me.", schema: MeJson } },
  }),
  password: documented({
    summary: "Change your password: signs out your other sessions",
    description:
      "The same rules as for invitations (400 `weak_password` naming the rule). A wrong current password is 403 and counts as a failed sign-in for throttling (429).",
    tag: "sign-in",
    access: "view",
    changes: true,
    body: PasswordChange,
    responses: { 200: { description: "A new token for this session; every other session is signed out.", schema: Schema.Struct({ jwt: Schema.String }) } },
    errors: [403, 429],
  }),
  me: documented({
    summary: "The signed-in account: name, email, role and preferences",
    tag: "sign-in",
    access: "view",
    responses: {
      200: {
        description: "The account.",
        schema: MeJson,
      },
    },
  }),
}

export const meApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.me", prefix: "/v1" })
    .get(
      "/me",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view")
            return json(meJson(yield* currentUser(principal)))
          }),
        ),
      { detail: meApiDocs.me },
    )
    .patch(
      "/me",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view", "change")
            const change = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(ProfileChange, "account change")))
            const user = yield* (yield* Profile).update(principal, change, yield* currentUser(principal))
            return json(meJson(user))
          }),
        ),
      { parse: "none", detail: meApiDocs.update },
    )
    .post(
      "/me/password",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view", "change")
            const change = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(PasswordChange, "password change")))
            const user = yield* currentUser(principal)
            const jwt = yield* (yield* Profile).changePassword(principal, user, change, clientAddressOf(request))
            return json({ jwt })
          }),
        ),
      { parse: "none", detail: meApiDocs.password },
    )
