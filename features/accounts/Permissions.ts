import { Forbidden } from "@scopeline/ui/ApiError"
import type { Role } from "./Role.ts"
import type { Principal } from "./User.ts"
import { Effect } from "effect"

/**
 * The one permission table. Routes and pages ask for a permission, never for a role, so changing
 * who may do what is a one-line change here.
 */
export const permissions = {
  view: ["admin", "accountant", "viewer"],
  upload: ["admin", "accountant"],
  administer: ["admin"],
  operate: ["admin"],
} as const satisfies Record<string, ReadonlyArray<Role>>

export type Permission = keyof typeof permissions

export const can = (role: Role, permission: Permission): boolean =>
  (permissions[permission] as ReadonlyArray<Role>).includes(role)

export const requirePermission = (principal: Principal, permission: Permission): Effect.Effect<void, Forbidden> =>
  can(principal.role, permission)
    ? Effect.void
    : Effect.fail(
        new Forbidden({
          message: `Your role (${principal.role}) does not allow this action.`,
          details: { required_permission: permission, allowed_roles: permissions[permission] },
        }),
      )
