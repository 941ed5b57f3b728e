import type { AccountsServices } from "@scopeline/accounts"
import type { FactorsRepo } from "../FactorsRepo.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type CatalogueServices = AccountsServices | FactorsRepo
