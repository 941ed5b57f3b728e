import type { SqlClient } from "@effect/sql"
import type { AccountsServices } from "@scopeline/accounts"
import type { AppConfig } from "@scopeline/settings/AppConfig"

/** What this feature's routes and pages need from the server's runtime. */
export type HomeServices = AccountsServices | AppConfig | SqlClient.SqlClient
