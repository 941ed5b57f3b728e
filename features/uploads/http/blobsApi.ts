import { BadRequest, Conflict, Forbidden, PayloadTooLarge } from "@scopeline/ui/ApiError"
import { BLOB_ROUTE, LocalBlobUploads, type UploadRejected } from "@scopeline/storage/LocalBlobStore"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { json, type Responder } from "@scopeline/ui/respond"
import type { UploadsServices } from "./services.ts"

const toApiError = (rejected: UploadRejected) => {
  switch (rejected.reason) {
    case "too_large":
      return new PayloadTooLarge({ message: rejected.message })
    case "exists":
      return new Conflict({ message: rejected.message })
    case "aborted":
      return new BadRequest({ message: rejected.message })
    case "forbidden":
      return new Forbidden({ message: rejected.message })
  }
}

/**
 * The local blob store's upload endpoint (embedded mode): the browser PUTs the file to the signed
 * URL it was given. The signature is the authorisation; no session is needed, as with S3.
 */
export const blobsApi = (respond: Responder<UploadsServices>) =>
  new Elysia({ name: "api.blobs" }).put(
    `${BLOB_ROUTE}*`,
    ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const url = new URL(request.url)
          const key = yield* Effect.try({
            try: () => decodeURIComponent(url.pathname.slice(BLOB_ROUTE.length)),
            catch: () => new Forbidden({ message: "This upload link is not valid." }),
          })
          const uploads = yield* LocalBlobUploads
          const params = yield* uploads.verify(key, url.searchParams).pipe(Effect.mapError(toApiError))
          // Refuse early when the client says it is too big; the stream check below catches liars.
          const declared = Number(request.headers.get("content-length") ?? "NaN")
          if (Number.isFinite(declared) && declared > params.maxBytes) {
            return yield* new PayloadTooLarge({
              message: `The file is larger than the ${params.maxBytes} bytes allowed for this upload.`,
            })
          }
          if (!request.body || declared === 0) return yield* new BadRequest({ message: "The upload has no content." })
          const { size } = yield* uploads.write(params, request.body).pipe(
            Effect.catchTags({
              UploadRejected: (rejected) =>
                rejected.reason === "aborted"
                  ? // The client's connection, not our fault: a warning, and the link stays usable.
                    Effect.logWarning("upload interrupted by the client").pipe(
                      Effect.annotateLogs({ key }),
                      Effect.zipRight(Effect.fail(toApiError(rejected))),
                    )
                  : Effect.fail(toApiError(rejected)),
              // A disk failure is ours, not the client's: a logged 500.
              BlobStoreError: (error) => Effect.die(error),
            }),
          )
          return json({ key, size }, 201)
        }),
      ),
    { parse: "none" },
  )
