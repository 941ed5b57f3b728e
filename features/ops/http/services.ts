import type { SqlClient } from "@effect/sql"
import type { AccountsServices } from "@scopeline/accounts"
import type { Queue } from "@scopeline/queue/Queue"
import type { Webhooks } from "@scopeline/webhooks"
import type { AppConfig } from "@scopeline/settings/AppConfig"

/** What this feature's routes and pages need from the server's runtime. */
export type OpsServices = AccountsServices | AppConfig | Queue | SqlClient.SqlClient | Webhooks
