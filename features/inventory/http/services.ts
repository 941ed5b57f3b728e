import type { SqlClient } from "@effect/sql"
import type { AccountsServices } from "@scopeline/accounts"
import type { BlobStore } from "@scopeline/storage/BlobStore"
import type { LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"
import type { Exports } from "../Exports.ts"
import type { UploadsRepo } from "@scopeline/uploads"
import type { InventoryReports } from "../InventoryReports.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type InventoryServices = AccountsServices | SqlClient.SqlClient | InventoryReports | Exports | BlobStore | LocalBlobUploads | UploadsRepo
