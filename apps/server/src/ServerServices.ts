import type { SqlClient } from "@effect/sql"
import type { Authentication } from "@scopeline/auth/Authentication"
import type { AppConfig } from "@scopeline/config/AppConfig"
import type { UsersRepo } from "@scopeline/db/UsersRepo"

/** Everything a request handler may use; the server's layer provides exactly this. */
export type ServerServices = AppConfig | Authentication | UsersRepo | SqlClient.SqlClient
