import { clientAddressOf } from "@scopeline/ui/clientAddress"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { AcceptRequest, Invitations } from "../Invitations.ts"
import type { AccountsServices } from "./services.ts"

export const invitationsApiDocs = {
  accept: documented({
    summary: "Accept an invitation: creates the account and signs it in",
    description:
      "The password must have at least 12 characters, must not contain the email, and must not be a common password (400 names the rule). A used, revoked or expired link is 410 with `details.reason`.",
    tag: "team",
    access: "public",
    body: AcceptRequest,
    responses: { 200: { description: "The new account's session token.", schema: Schema.Struct({ jwt: Schema.String }) } },
    errors: [404, 409, 410],
  }),
}

/** The one route an invited person calls before they have an account. */
export const invitationsApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.invitations", prefix: "/v1/invitations" }).post(
    "/accept",
    ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(AcceptRequest, "invitation acceptance")))
          const { jwt } = yield* (yield* Invitations).accept(body, clientAddressOf(request))
          return json({ jwt })
        }),
      ),
    { parse: "none", detail: invitationsApiDocs.accept },
  )
