import type { SqlClient } from "@effect/sql"
import type { AccountsServices } from "@scopeline/accounts"
import type { LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"
import type { UploadProgress } from "../UploadProgress.ts"
import type { Uploads } from "../Uploads.ts"
import type { UploadsRepo } from "../UploadsRepo.ts"

/** What this feature's routes and pages need from the server's runtime. */
export type UploadsServices = AccountsServices | SqlClient.SqlClient | Uploads | UploadsRepo | UploadProgress | LocalBlobUploads
