import type { Authentication } from "../Authentication.ts"
import type { UsersRepo } from "../UsersRepo.ts"

/** Signing in and the current account: what every guarded route needs. */
export type AccountsServices = Authentication | UsersRepo
