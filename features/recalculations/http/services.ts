import type { AccountsServices } from "@scopeline/accounts"
import type { FactorsRepo } from "@scopeline/catalogue"
import type { UploadsRepo } from "@scopeline/uploads"
import type { Recalculations } from "../Recalculations.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type RecalculationsServices = AccountsServices | Recalculations | FactorsRepo | UploadsRepo
