import { clientAddressOf } from "@scopeline/ui/clientAddress"
import { Effect, Either } from "effect"
import { Elysia } from "elysia"
import { decodeInput, formBody, formText } from "@scopeline/ui/decode"
import { type ApiError, errorSentence } from "@scopeline/ui/ApiError"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { CSRF_FIELD, csrfToken, verifyCsrf } from "@scopeline/ui/session"
import { AcceptRequest, InvitationRequest, Invitations } from "../Invitations.ts"
import { roles } from "../Role.ts"
import { Team } from "../Team.ts"
import { AcceptInvitationPage } from "../views/AcceptInvitationPage.tsx"
import { TeamPage, type TeamPageProps } from "../views/TeamPage.tsx"
import { guard } from "./guard.ts"
import { sessionStarted } from "./authPages.tsx"
import { acceptUrlOf, invitationIdOf, MemberChangeRequest, userIdOf } from "./adminApi.ts"
import { readerOf, renderPage, signedIn, currentUser } from "./render.tsx"
import type { AccountsServices } from "./services.ts"
import type { Principal } from "../User.ts"
import { InvitationNotFound, UserNotFound } from "../errors.ts"

const field = formText
const present = (form: FormData, name: string) => {
  const value = field(form, name)?.trim()
  return value === undefined || value === "" ? undefined : value
}

/** The errors a team form can meet: shown on the page itself, with what was typed kept. */
const FORM_ERRORS = ["BadRequest", "EmailAlreadyInvited", "LastActiveAdmin", "UserNotFound", "InvitationNotFound", "WeakPassword"]
const isFormError = (error: ApiError) => FORM_ERRORS.includes(error._tag)

const PAGE_SIZE = 200

export const teamPages = (respond: Responder<AccountsServices>) => {
  const { page } = pageResponder(respond)

  /** The whole team page for `principal`, with whatever the last action left to say. */
  const teamPage = (request: Request, principal: Principal, status: number, extra: Partial<TeamPageProps> = {}) =>
    Effect.gen(function* () {
      const team = yield* Team
      const invitations = yield* Invitations
      const user = yield* currentUser(principal)
      const { members } = yield* team.list(0, PAGE_SIZE)
      const pending = yield* invitations.pending()
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Team", status, principal, user, location: "/admin/users" },
          <TeamPage
            members={members.map((member) => ({
              id: member.id,
              email: member.email,
              name: [member.firstName, member.lastName].filter((part) => part !== null && part !== "").join(" ") || "—",
              role: member.role,
              active: member.active,
              lastSignInAt: member.lastSignInAt,
              invitedBy: member.invitedByEmail,
              isYou: member.id === principal.userId,
            }))}
            invitations={pending.map((invitation) => ({
              id: invitation.id,
              email: invitation.email,
              role: invitation.role,
              expiresAt: invitation.expiresAt,
            }))}
            roles={roles}
            reader={readerOf(user)}
            ttlHours={invitations.ttlHours}
            {...extra}
          />,
        ),
      )
    })

  /** Runs a team change; a refused one is the same page with the reason and the refusal's status. */
  const teamAction = (
    request: Request,
    action: (principal: Principal, form: FormData) => Effect.Effect<Partial<TeamPageProps>, ApiError, AccountsServices>,
  ) =>
    page(
      request,
      Effect.gen(function* () {
        const principal = yield* guard(request, "administer", "change")
        const form = yield* formBody(request)
        const outcome = yield* action(principal, form).pipe(Effect.either)
        if (Either.isRight(outcome)) return yield* teamPage(request, principal, 200, outcome.right)
        if (!isFormError(outcome.left)) return yield* Effect.fail(outcome.left)
        return yield* teamPage(request, principal, outcome.left.status, {
          error: outcome.left.message,
          invite: { email: present(form, "email"), role: present(form, "role"), firstname: present(form, "firstname"), lastname: present(form, "lastname") },
        })
      }),
    )

  const acceptPage = (request: Request, token: string, status: number, extra: { error?: string; firstname?: string; lastname?: string } = {}) =>
    Effect.gen(function* () {
      const invitation = yield* (yield* Invitations).inspect(token)
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Join Scopeline", status, location: `/invitations/accept?token=${encodeURIComponent(token)}` },
          <AcceptInvitationPage
            csrfToken={csrfToken(request).token}
            token={token}
            email={invitation.email}
            role={invitation.role}
            firstname={extra.firstname ?? invitation.firstName ?? ""}
            lastname={extra.lastname ?? invitation.lastName ?? ""}
            {...(extra.error === undefined ? {} : { error: extra.error })}
          />,
        ),
      )
    })

  return new Elysia({ name: "pages.team" })
    .get("/admin/users", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal } = yield* signedIn(request, "administer")
          return yield* teamPage(request, principal, 200)
        }),
      ),
    )
    .post(
      "/admin/invitations",
      ({ request }) =>
        teamAction(request, (principal, form) =>
          Effect.gen(function* () {
            const body = yield* decodeInput(InvitationRequest, "invitation")({
              email: field(form, "email") ?? "",
              role: field(form, "role") ?? "",
              ...(present(form, "firstname") === undefined ? {} : { firstname: present(form, "firstname") }),
              ...(present(form, "lastname") === undefined ? {} : { lastname: present(form, "lastname") }),
            })
            const { invitation, token } = yield* (yield* Invitations).create(principal, body)
            return {
              newLink: { email: invitation.email, url: yield* acceptUrlOf(request, token) },
              notice: `Invitation created for ${invitation.email} as ${invitation.role}.`,
            }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/invitations/:id/revoke",
      ({ request, params }) =>
        teamAction(request, (principal) =>
          Effect.gen(function* () {
            const id = yield* invitationIdOf(params.id)
            yield* (yield* Invitations).revoke(principal, id)
            return { notice: "Invitation revoked: its link no longer works." }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/users/:id",
      ({ request, params }) =>
        teamAction(request, (principal, form) =>
          Effect.gen(function* () {
            const id = yield* userIdOf(params.id)
            const active = field(form, "active")
            const change = yield* decodeInput(MemberChangeRequest, "change")({
              ...(field(form, "role") === undefined ? {} : { role: field(form, "role") }),
              // Only the form's own two values: anything else is refused by the decode, never read as "false".
              ...(active === undefined ? {} : { active: active === "true" ? true : active === "false" ? false : active }),
            })
            const member = yield* (yield* Team).change(principal, id, change)
            return {
              notice:
                change.active === undefined
                  ? `${member.email} is now ${member.role}.`
                  : `${member.email} is ${member.active ? "active again" : "deactivated and signed out"}.`,
            }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/users/:id/delete",
      ({ request, params }) =>
        teamAction(request, (principal) =>
          Effect.gen(function* () {
            const id = yield* userIdOf(params.id)
            yield* (yield* Team).remove(principal, id)
            return { notice: "The account was deleted. What it uploaded stays attributed to it." }
          }),
        ),
      { parse: "none" },
    )
    .get("/invitations/accept", ({ request }) =>
      page(request, acceptPage(request, new URL(request.url).searchParams.get("token") ?? "", 200)),
    )
    .post(
      "/invitations/accept",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const form = yield* formBody(request)
            yield* verifyCsrf(request, field(form, CSRF_FIELD))
            const token = field(form, "token") ?? ""
            const names = {
              ...(present(form, "firstname") === undefined ? {} : { firstname: present(form, "firstname") }),
              ...(present(form, "lastname") === undefined ? {} : { lastname: present(form, "lastname") }),
            }
            const accepted = yield* decodeInput(AcceptRequest, "invitation acceptance")({ token, password: field(form, "password") ?? "", ...names }).pipe(
              Effect.flatMap((body) => Invitations.pipe(Effect.flatMap((invitations) => invitations.accept(body, clientAddressOf(request))))),
              Effect.either,
            )
            if (Either.isLeft(accepted)) {
              // A weak password or a field out of bounds is fixed on the form, with what was typed; a gone link has its own page.
              if (accepted.left._tag !== "WeakPassword" && accepted.left._tag !== "BadRequest") return yield* Effect.fail(accepted.left)
              return yield* acceptPage(request, token, 400, { error: errorSentence(accepted.left), ...names })
            }
            const { jwt } = accepted.right
            return sessionStarted(request, jwt, "/")
          }),
        ),
      { parse: "none" },
    )
}
