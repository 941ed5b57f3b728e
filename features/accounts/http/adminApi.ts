import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { Option } from "effect"
import { guard } from "./guard.ts"
import type { AccountsServices } from "./services.ts"
import { InvitationRequest, Invitations } from "../Invitations.ts"
import { type Invitation, InvitationId } from "../InvitationsRepo.ts"
import { Role } from "../Role.ts"
import { Team } from "../Team.ts"
import type { TeamMember } from "../TeamRepo.ts"
import { UserId } from "../User.ts"
import { UserNotFound, InvitationNotFound } from "../errors.ts"

export const TeamPageQuery = Schema.Struct({
  offset: Schema.optionalWith(QueryInt, { default: () => 0 }),
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 200)), { default: () => 50 }),
})

/** Body of PATCH /v1/admin/users/:id: at least one of the two. */
export const MemberChangeRequest = Schema.Struct({
  role: Schema.optional(Role),
  active: Schema.optional(Schema.Boolean),
}).pipe(Schema.filter((change) => change.role !== undefined || change.active !== undefined, { message: () => "give role, active or both" }))

const UserJson = Schema.Struct({
  id: Schema.String,
  email: Schema.String,
  identity: Schema.Struct({ firstname: Schema.NullOr(Schema.String), lastname: Schema.NullOr(Schema.String) }),
  role: Role,
  active: Schema.Boolean,
  last_sign_in_at: Schema.NullOr(Schema.String),
  invited_by: Schema.NullOr(Schema.Struct({ id: Schema.String, email: Schema.NullOr(Schema.String) })),
  created_at: Schema.String,
})
const InvitationJson = Schema.Struct({
  id: Schema.String,
  email: Schema.String,
  role: Role,
  identity: Schema.Struct({ firstname: Schema.NullOr(Schema.String), lastname: Schema.NullOr(Schema.String) }),
  invited_by: Schema.String,
  created_at: Schema.String,
  expires_at: Schema.String,
})
const IdParam = Schema.Struct({ id: Schema.String })

export const userJson = (member: TeamMember): typeof UserJson.Type => ({
  id: member.id,
  email: member.email,
  identity: { firstname: member.firstName, lastname: member.lastName },
  role: member.role,
  active: member.active,
  last_sign_in_at: member.lastSignInAt?.toISOString() ?? null,
  invited_by: member.invitedBy === null ? null : { id: member.invitedBy, email: member.invitedByEmail },
  created_at: member.createdAt.toISOString(),
})

export const invitationJson = (invitation: Invitation): typeof InvitationJson.Type => ({
  id: invitation.id,
  email: invitation.email,
  role: invitation.role,
  identity: { firstname: invitation.firstName, lastname: invitation.lastName },
  invited_by: invitation.invitedBy,
  created_at: invitation.createdAt.toISOString(),
  expires_at: invitation.expiresAt.toISOString(),
})

/** Where an invitation link points: PUBLIC_URL when set, otherwise the address the admin reached us at. */
export const acceptUrlOf = (request: Request, token: string | null) =>
  AppConfig.pipe(
    Effect.map((config) => {
      const origin = Option.getOrElse(config.publicUrl, () => new URL(request.url).origin)
      // AWS mode: Cognito mailed a temporary password; the person signs in and chooses their own.
      return token === null ? `${origin}/login` : `${origin}/invitations/accept?token=${encodeURIComponent(token)}`
    }),
  )

// A path id that is not a UUID names nothing: 404, like an unknown one (for the API and the pages alike).
export const userIdOf = (id: string) =>
  Schema.decodeUnknown(UserId)(id).pipe(Effect.mapError(() => new UserNotFound({ message: "There is no such user in this team." })))
export const invitationIdOf = (id: string) =>
  Schema.decodeUnknown(InvitationId)(id).pipe(
    Effect.mapError(() => new InvitationNotFound({ message: "There is no pending invitation with this id." })),
  )

export const adminApiDocs = {
  listUsers: documented({
    summary: "The team: every account with its role, whether it is active, and when it last signed in",
    tag: "team",
    access: "administer",
    query: TeamPageQuery,
    responses: {
      200: {
        description: "One page of accounts, by email.",
        schema: Schema.Struct({ offset: Schema.Number, limit: Schema.Number, total: Schema.Number, users: Schema.Array(UserJson) }),
      },
    },
  }),
  changeUser: documented({
    summary: "Change an account's role or deactivate / reactivate it",
    description: "Applies to the account's very next request. Deactivating signs out its sessions. The last active admin cannot be demoted or deactivated (409).",
    tag: "team",
    access: "administer",
    changes: true,
    params: IdParam,
    body: MemberChangeRequest,
    responses: { 200: { description: "The account as it is now.", schema: Schema.Struct({ user: UserJson }) } },
    errors: [404, 409],
  }),
  deleteUser: documented({
    summary: "Delete an account: removed from sign-in, its uploads stay attributed to it",
    tag: "team",
    access: "administer",
    changes: true,
    params: IdParam,
    responses: { 204: { description: "Deleted." } },
    errors: [404, 409],
  }),
  invite: documented({
    summary: "Invite someone into the team with a role",
    description: "Returns a single-use link valid for INVITATION_TTL_HOURS (default 72). No mail is sent in the embedded mode: hand the link over.",
    tag: "team",
    access: "administer",
    changes: true,
    body: InvitationRequest,
    responses: {
      201: {
        description: "The invitation and its link (shown once).",
        schema: Schema.Struct({ invitation: Schema.extend(InvitationJson, Schema.Struct({ accept_url: Schema.String })) }),
      },
    },
    errors: [409],
  }),
  listInvitations: documented({
    summary: "Pending invitations (not accepted, revoked or expired)",
    tag: "team",
    access: "administer",
    responses: { 200: { description: "Newest first.", schema: Schema.Struct({ invitations: Schema.Array(InvitationJson) }) } },
  }),
  revokeInvitation: documented({
    summary: "Revoke a pending invitation: its link stops working (410)",
    tag: "team",
    access: "administer",
    changes: true,
    params: IdParam,
    responses: { 204: { description: "Revoked." } },
    errors: [404],
  }),
}

/** Administration: who has access, with which role; invitations into the team. */
export const adminApi = (respond: Responder<AccountsServices>) =>
  new Elysia({ name: "api.admin", prefix: "/v1/admin" })
    .get(
      "/users",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "administer")
            const { offset, limit } = yield* decodeInput(TeamPageQuery, "query")(queryParams(request))
            const { members, total } = yield* (yield* Team).list(offset, limit)
            return json({ offset, limit, total, users: members.map(userJson) })
          }),
        ),
      { detail: adminApiDocs.listUsers },
    )
    .patch(
      "/users/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const id = yield* userIdOf(params.id)
            const change = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(MemberChangeRequest, "change")))
            const member = yield* (yield* Team).change(admin, id, change)
            return json({ user: userJson(member) })
          }),
        ),
      { parse: "none", detail: adminApiDocs.changeUser },
    )
    .delete(
      "/users/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const id = yield* userIdOf(params.id)
            yield* (yield* Team).remove(admin, id)
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: adminApiDocs.deleteUser },
    )
    .post(
      "/invitations",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(InvitationRequest, "invitation")))
            const { invitation, token } = yield* (yield* Invitations).create(admin, body)
            return json({ invitation: { ...invitationJson(invitation), accept_url: yield* acceptUrlOf(request, token) } }, 201)
          }),
        ),
      { parse: "none", detail: adminApiDocs.invite },
    )
    .get(
      "/invitations",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "administer")
            const pending = yield* (yield* Invitations).pending()
            return json({ invitations: pending.map(invitationJson) })
          }),
        ),
      { detail: adminApiDocs.listInvitations },
    )
    .delete(
      "/invitations/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const admin = yield* guard(request, "administer", "change")
            const id = yield* invitationIdOf(params.id)
            yield* (yield* Invitations).revoke(admin, id)
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: adminApiDocs.revokeInvitation },
    )
