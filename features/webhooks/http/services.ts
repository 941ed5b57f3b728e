import type { AccountsServices } from "@scopeline/accounts"
import type { Webhooks } from "../Webhooks.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type WebhooksServices = AccountsServices | Webhooks
