import type { AccountsServices } from "@scopeline/accounts"
import type { FactorsRepo } from "@scopeline/catalogue"
import type { Review } from "../Review.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type MatchingServices = AccountsServices | Review | FactorsRepo
