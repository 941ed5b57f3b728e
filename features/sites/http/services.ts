import type { SqlClient } from "@effect/sql"
import type { AccountsServices } from "@scopeline/accounts"
import type { Measurements } from "../Measurements.ts"
import type { SiteLimits } from "../SiteLimits.ts"
import type { Sites } from "../Sites.ts"
import type { SitesRepo } from "../SitesRepo.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type SitesServices = AccountsServices | SqlClient.SqlClient | Sites | SitesRepo | Measurements | SiteLimits
