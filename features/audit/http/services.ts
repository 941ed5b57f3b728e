import type { AccountsServices } from "@scopeline/accounts"
import type { AuditRepo } from "@scopeline/events"

/** What this feature's routes and pages need from the server's runtime. */
export type AuditServices = AccountsServices | AuditRepo
