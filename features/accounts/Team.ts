import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Effect, Option } from "effect"
import { LastActiveAdmin, UserNotFound } from "./errors.ts"
import { Directory, fromCognito } from "./Directory.ts"
import type { Role } from "./Role.ts"
import { TeamRepo } from "./TeamRepo.ts"
import type { Principal, UserId } from "./User.ts"

export interface MemberChange {
  readonly role?: Role
  readonly active?: boolean
}

const lastAdmin = (what: string) =>
  new LastActiveAdmin({
    message: `This is the team's last active admin: ${what} would leave nobody able to run the team. Make someone else an admin first.`,
  })

/**
 * Running the team: roles, deactivation and deletion, each change committed with its audit event.
 * The change applies to the account's very next request (every request re-reads the account).
 */
export class Team extends Effect.Service<Team>()("scopeline/Team", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* TeamRepo
    const audit = yield* AuditLog
    // AWS mode: Cognito holds sign-in and the role's group; each change goes there inside the
    // transaction, after the change and its audit event are written here: a refusal by Cognito rolls
    // both back, and a change whose record fails never reaches Cognito.
    const directory = yield* Directory

    const memberOrFail = (id: UserId) =>
      repo.findById(id).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new UserNotFound({ message: "There is no such user in this team." })),
            onSome: Effect.succeed,
          }),
        ),
      )

    /** Fails when `id` is an active admin and the last one. Call inside the transaction (it locks). */
    const keepAnAdmin = (id: UserId, what: string) =>
      Effect.gen(function* () {
        const admins = yield* repo.lockActiveAdmins()
        if (admins.includes(id) && admins.length <= 1) return yield* lastAdmin(what)
      })

    const change = Effect.fn("Team.change")(function* (by: Principal, id: UserId, change: MemberChange) {
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          const before = yield* memberOrFail(id)
          const demoted = change.role !== undefined && change.role !== "admin" && before.role === "admin"
          const deactivated = change.active === false && before.active
          if (demoted || deactivated) yield* keepAnAdmin(id, demoted ? "demoting them" : "deactivating them")
          const actor = { userId: by.userId, role: by.role }
          const object = { type: "user", id }
          const inDirectory: Array<Effect.Effect<void, { readonly name: string; readonly message: string }>> = []
          if (change.role !== undefined && change.role !== before.role) {
            yield* repo.setRole(id, change.role)
            if (directory.cognito !== null) inDirectory.push(directory.cognito.moveToGroup(before.email, before.role, change.role))
            yield* audit.record({
              category: "security",
              action: "role_changed",
              actor,
              object,
              details: { from: before.role, to: change.role },
            })
          }
          if (change.active !== undefined && change.active !== before.active) {
            yield* repo.setActive(id, change.active)
            if (directory.cognito !== null) inDirectory.push(directory.cognito.setEnabled(before.email, change.active))
            yield* audit.record({
              category: "security",
              action: change.active ? "user_reactivated" : "user_deactivated",
              actor,
              object,
            })
          }
          yield* Effect.forEach(inDirectory, fromCognito, { discard: true })
          return yield* memberOrFail(id)
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    const remove = Effect.fn("Team.remove")(function* (by: Principal, id: UserId) {
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const before = yield* memberOrFail(id)
          yield* keepAnAdmin(id, "deleting them")
          yield* repo.markDeleted(id)
          yield* audit.record({
            category: "security",
            action: "user_deleted",
            actor: { userId: by.userId, role: by.role },
            object: { type: "user", id },
            details: { role: before.role },
          })
          if (directory.cognito !== null) yield* fromCognito(directory.cognito.deleteUser(before.email))
        }),
      ).pipe(Effect.catchTag("SqlError", Effect.die))
    })

    return { list: repo.page, change, remove }
  }),
  dependencies: [TeamRepo.Default, Directory.Default],
}) {}
