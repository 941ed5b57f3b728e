import { Schema } from "effect"

export const Role = Schema.Literal("admin", "accountant", "viewer")
export type Role = typeof Role.Type

export const roles: ReadonlyArray<Role> = Role.literals
