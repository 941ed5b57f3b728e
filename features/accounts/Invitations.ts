import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Passwords } from "@scopeline/identity/Passwords"
import { Config, Effect, Option, Schema } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { EmailAlreadyInvited, InvitationGone, InvitationNotFound } from "./errors.ts"
import { type Invitation, type InvitationId, InvitationsRepo, NewInvitation } from "./InvitationsRepo.ts"
import { checkPassword } from "./PasswordRules.ts"
import { Directory, fromCognito } from "./Directory.ts"
import { Role } from "./Role.ts"
import { Tokens } from "./Tokens.ts"
import { Email, Principal } from "./User.ts"

const Name = Schema.String.pipe(Schema.trimmed(), Schema.maxLength(100))

/** Body of POST /v1/admin/invitations. */
export const InvitationRequest = Schema.Struct({
  // Normalised rather than refused: "Ana@Example.com " is ana@example.com.
  email: Schema.Trim.pipe(Schema.compose(Schema.Lowercase), Schema.compose(Email), Schema.maxLength(320)),
  role: Role,
  firstname: Schema.optional(Name),
  lastname: Schema.optional(Name),
})
export type InvitationRequest = typeof InvitationRequest.Type

/** Body of POST /v1/invitations/accept. */
export const AcceptRequest = Schema.Struct({
  token: Schema.String.pipe(Schema.pattern(/^[\w-]{20,100}$/, { message: () => "is not an invitation token" })),
  password: Schema.String.pipe(Schema.maxLength(1024)),
  firstname: Schema.optional(Name),
  lastname: Schema.optional(Name),
})
export type AcceptRequest = typeof AcceptRequest.Type

/** Only the hash of a link's token is stored: a copy of the database cannot accept an invitation. */
export const tokenHashOf = (token: string) => createHash("sha256").update(token).digest("hex")

export const invitationTtlHours = Config.integer("INVITATION_TTL_HOURS").pipe(
  Config.validate({ message: "must be between 1 and 720 hours", validation: (hours) => hours >= 1 && hours <= 720 }),
  Config.withDefault(72),
)

/** How long Cognito's temporary password lasts by default (the pool's TemporaryPasswordValidityDays). */
const COGNITO_TEMPORARY_PASSWORD_DAYS = 7

const blank = (text: string | undefined) => (text === undefined || text === "" ? null : text)

/**
 * Inviting people into the team: a single-use link (a random token, stored hashed) that creates the
 * account with the invited role. In the embedded mode no mail is sent; the admin copies the link.
 */
export class Invitations extends Effect.Service<Invitations>()("scopeline/Invitations", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* InvitationsRepo
    const audit = yield* AuditLog
    const passwords = yield* Passwords
    const tokens = yield* Tokens
    const ttlHours = yield* invitationTtlHours.pipe(Effect.orDie)
    const directory = yield* Directory

    const create = Effect.fn("Invitations.create")(function* (by: Principal, request: InvitationRequest) {
      const token = randomBytes(32).toString("base64url")
      const invitation = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* repo.lockEmail(request.email)
          if (yield* repo.emailHasAccount(request.email)) {
            return yield* new EmailAlreadyInvited({
              message: "An account with this email already exists.",
              details: { field: "email" },
            })
          }
          if (Option.isSome(yield* repo.findPendingFor(request.email))) {
            return yield* new EmailAlreadyInvited({
              message: "This email already has a pending invitation. Revoke it first to send a new one.",
              details: { field: "email" },
            })
          }
          const created = yield* repo.insert(
            new NewInvitation({
              email: request.email,
              role: request.role,
              firstName: blank(request.firstname),
              lastName: blank(request.lastname),
              tokenHash: tokenHashOf(token),
              invitedBy: by.userId,
              expiresAt: new Date(Date.now() + (directory.cognito !== null ? COGNITO_TEMPORARY_PASSWORD_DAYS * 24 : ttlHours) * 3600_000),
            }),
          )
          yield* audit.record({
            category: "security",
            action: "invitation_created",
            actor: { userId: by.userId, role: by.role },
            object: { type: "invitation", id: created.id },
            details: {
              role: created.role,
              invitee_email_hash: audit.emailHash(created.email),
              expires_at: created.expiresAt.toISOString(),
              delivery: directory.cognito !== null ? "cognito" : "link",
            },
          })
          // AWS mode: Cognito creates the user in the role's group and mails its own invitation (a
          // temporary password); our row follows at once, so who invited them is kept. Cognito is
          // called after the invitation and its event are written, so a refusal there rolls all of
          // this back and an invitation whose record fails mails nobody.
          if (directory.cognito !== null) {
            const { sub } = yield* fromCognito(
              directory.cognito.createUser({ email: created.email, group: created.role, firstName: created.firstName, lastName: created.lastName }),
            )
            if (sub !== null) {
              const userId = yield* repo.createCognitoUser({
                cognitoSub: sub,
                email: created.email,
                firstName: created.firstName,
                lastName: created.lastName,
                role: created.role,
                invitedBy: by.userId,
              })
              yield* repo.markAccepted(created.id, userId)
            }
          }
          return created
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
      // In AWS mode the person signs in with Cognito's temporary password: the link is the sign-in page.
      return { invitation, token: directory.cognito !== null ? null : token }
    })

    const revoke = Effect.fn("Invitations.revoke")(function* (by: Principal, id: InvitationId) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          if (!(yield* repo.revoke(id))) {
            return yield* new InvitationNotFound({ message: "There is no pending invitation with this id." })
          }
          yield* audit.record({
            category: "security",
            action: "invitation_revoked",
            actor: { userId: by.userId, role: by.role },
            object: { type: "invitation", id },
          })
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    /** Why a link no longer works, for the 410's message; None while it is still good. */
    const goneReason = (invitation: Invitation): Option.Option<{ reason: string; message: string }> =>
      invitation.acceptedAt !== null
        ? Option.some({ reason: "used", message: "This invitation has already been used. Sign in instead." })
        : invitation.revokedAt !== null
          ? Option.some({ reason: "revoked", message: "This invitation was withdrawn. Ask your admin for a new one." })
          : invitation.expiresAt.getTime() <= Date.now()
            ? Option.some({ reason: "expired", message: "This invitation has expired. Ask your admin for a new one." })
            : Option.none()

    /** The invitation behind a link, if it can still be accepted (for the page at the link). */
    const inspect = Effect.fn("Invitations.inspect")(function* (token: string) {
      const found = yield* repo.findByTokenHash(tokenHashOf(token))
      if (Option.isNone(found)) return yield* new InvitationNotFound({ message: "This invitation link is not valid." })
      const gone = goneReason(found.value)
      if (Option.isSome(gone)) return yield* new InvitationGone({ message: gone.value.message, details: { reason: gone.value.reason } })
      return found.value
    })

    /** Accepting signs the new member in: their first session is recorded as any sign-in is, from `from`. */
    const accept = Effect.fn("Invitations.accept")(function* (request: AcceptRequest, from: string) {
      const principal = yield* sql.withTransaction(
        Effect.gen(function* () {
          const invitation = yield* inspect(request.token)
          yield* checkPassword(request.password, invitation.email)
          yield* repo.lockEmail(invitation.email)
          if (yield* repo.emailHasAccount(invitation.email)) {
            return yield* new EmailAlreadyInvited({ message: "An account with this email already exists. Sign in instead." })
          }
          const userId = yield* repo.createUser({
            email: invitation.email,
            firstName: blank(request.firstname) ?? invitation.firstName,
            lastName: blank(request.lastname) ?? invitation.lastName,
            role: invitation.role,
            passwordHash: yield* passwords.hash(request.password),
            invitedBy: invitation.invitedBy,
          })
          yield* repo.markAccepted(invitation.id, userId)
          yield* audit.record({
            category: "security",
            action: "invitation_accepted",
            actor: { userId, role: invitation.role },
            object: { type: "invitation", id: invitation.id },
            details: { user_id: userId, invited_by: invitation.invitedBy },
          })
          yield* audit.record({
            category: "security",
            action: "login_succeeded",
            actor: { userId, role: invitation.role },
            object: { type: "user", id: userId },
            details: { address: from, via: "invitation" },
          })
          return new Principal({ userId, role: invitation.role })
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
      return { jwt: yield* tokens.issue(principal), principal }
    })

    return { create, pending: repo.pending, revoke, inspect, accept, ttlHours }
  }),
  dependencies: [InvitationsRepo.Default, Passwords.Default, Tokens.Default, Directory.Default],
}) {}
