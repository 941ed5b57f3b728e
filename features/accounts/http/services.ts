import type { AuditLog } from "@scopeline/events"
import type { AppConfig } from "@scopeline/settings/AppConfig"
import type { ApiKeys } from "../ApiKeys.ts"
import type { Authentication } from "../Authentication.ts"
import type { Invitations } from "../Invitations.ts"
import type { Profile } from "../Profile.ts"
import type { Team } from "../Team.ts"
import type { UsersRepo } from "../UsersRepo.ts"

/** Signing in, the current account and running the team: what every guarded route needs. */
export type AccountsServices = Authentication | UsersRepo | AuditLog | Team | Invitations | Profile | ApiKeys | AppConfig
