import { Config, Effect, Layer } from "effect"
import { BlobStoreError } from "./BlobStore.ts"
import { LocalBlobStoreLive, LocalBlobUploads, UploadRejected } from "./LocalBlobStore.ts"

/** In S3 mode browsers upload to S3 directly: the server's local upload route answers 403. */
const NoLocalUploads = Layer.succeed(
  LocalBlobUploads,
  LocalBlobUploads.of({
    verify: () => Effect.fail(new UploadRejected({ reason: "forbidden", message: "Uploads go directly to S3 in this deployment." })),
    verifyDownload: () => Effect.fail(new UploadRejected({ reason: "forbidden", message: "Downloads come from S3 in this deployment." })),
    write: (params) => Effect.fail(new BlobStoreError({ operation: "write", key: params.key, cause: "S3 mode" })),
  }),
)

/**
 * BLOB_STORE=local (default: files under DATA_DIR) or s3 (S3_BUCKET, …). The S3 adapter is imported
 * only in that mode: the AWS SDK adds about 30 MB to every process that loads it.
 */
export const BlobStoreLive = Layer.unwrapEffect(
  Config.literal("local", "s3")("BLOB_STORE").pipe(
    Config.withDefault("local" as const),
    Effect.flatMap((kind) =>
      kind === "s3"
        ? Effect.promise(() => import("./S3BlobStore.ts")).pipe(Effect.map((s3) => Layer.merge(s3.S3BlobStoreLive, NoLocalUploads)))
        : Effect.succeed(LocalBlobStoreLive),
    ),
  ),
)
