import type { AccountsServices } from "@scopeline/accounts"
import type { FactorsRepo } from "@scopeline/catalogue"
import type { Review } from "@scopeline/matching"
import type { UploadProgress } from "@scopeline/uploads"
import type { ActivitiesQuery } from "../ActivitiesQuery.ts"
import type { EmissionsRepo } from "../EmissionsRepo.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type ActivitiesServices = AccountsServices | ActivitiesQuery | EmissionsRepo | UploadProgress | Review | FactorsRepo
