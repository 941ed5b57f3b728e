import type { SqlClient } from "@effect/sql"
import type { Authentication } from "@scopeline/auth/Authentication"
import type { AppConfig } from "@scopeline/config/AppConfig"
import type { ActivitiesQuery } from "@scopeline/db/ActivitiesQuery"
import type { ActivitiesRepo } from "@scopeline/db/ActivitiesRepo"
import type { EmissionsRepo } from "@scopeline/db/EmissionsRepo"
import type { FactorsRepo } from "@scopeline/db/FactorsRepo"
import type { UploadsRepo } from "@scopeline/db/UploadsRepo"
import type { UsersRepo } from "@scopeline/db/UsersRepo"
import type { Uploads } from "@scopeline/pipeline/upload/Uploads"
import type { Queue } from "@scopeline/queue/Queue"
import type { BlobStore } from "@scopeline/storage/BlobStore"
import type { LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"

/** Everything a request handler may use; the server's layer provides exactly this. */
export type ServerServices =
  | AppConfig
  | Authentication
  | UsersRepo
  | UploadsRepo
  | ActivitiesRepo
  | ActivitiesQuery
  | EmissionsRepo
  | FactorsRepo
  | Uploads
  | BlobStore
  | LocalBlobUploads
  | Queue
  | SqlClient.SqlClient
