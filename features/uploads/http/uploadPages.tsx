import { guard } from "@scopeline/accounts"
import { can } from "@scopeline/accounts"
import { UploadsRepo } from "../UploadsRepo.ts"
import { isEnabled } from "@scopeline/accounts"
import { isSettled, type Upload } from "../Upload.ts"
import { Uploads } from "../Uploads.ts"
import { UploadPage, UploadStatus, type UploadStatusProps } from "../views/UploadPage.tsx"
import { UploadsPage } from "../views/UploadsPage.tsx"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { activityCounts, findUpload, PageQuery } from "./uploadsApi.ts"
import { decodeInput } from "@scopeline/ui/decode"
import { html, type Responder } from "@scopeline/ui/respond"
import type { UploadsServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { currentUser, renderPage, signedIn } from "@scopeline/accounts"

const statusProps = (upload: Upload, counts: Record<string, number>): UploadStatusProps => ({
  id: upload.id,
  filename: upload.originalFilename,
  status: upload.status,
  rowCount: upload.rowCount,
  errorCount: upload.errorCount,
  failureReason: upload.failureReason,
  counts,
  rowErrors: upload.rowErrors ?? [],
  // Keep polling while the file is being read or any of its activities is still being matched.
  live: !isSettled(upload.status) || (counts.ingested ?? 0) + (counts.matching ?? 0) > 0,
})

const loadStatus = (request: Request, id: string) =>
  Effect.gen(function* () {
    const principal = yield* guard(request, "view")
    const upload = yield* findUpload(id)
    const counts = yield* activityCounts(upload.id)
    return { principal, props: statusProps(upload, counts) }
  })

export const uploadPages = (respond: Responder<UploadsServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.uploads" })
    .get("/uploads", ({ request, query }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "view")
          const { offset, limit } = yield* decodeInput(PageQuery, "page")(query)
          const { uploads, total } = yield* (yield* UploadsRepo).list({ offset, limit })
          const { maxBytes } = yield* Uploads
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Uploads", principal, user },
              <UploadsPage
                canUpload={can(principal.role, "upload")}
                hints={isEnabled("bulk_upload_hints", principal)}
                maxMegabytes={Math.floor(maxBytes / 1048576)}
                offset={offset}
                limit={limit}
                total={total}
                reader={reader}
                uploads={uploads.map((upload) => ({
                  id: upload.id,
                  filename: upload.originalFilename,
                  status: upload.status,
                  rowCount: upload.rowCount,
                  createdAt: upload.createdAt,
                  failureReason: upload.failureReason,
                }))}
              />,
            ),
          )
        }),
      ),
    )
    .get("/uploads/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, props } = yield* loadStatus(request, params.id)
          const user = yield* currentUser(principal)
          return yield* Effect.promise(() =>
            renderPage(request, { title: props.filename ?? "Upload", principal, user }, <UploadPage {...props} />),
          )
        }),
      ),
    )
    .get("/uploads/:id/status", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { props } = yield* loadStatus(request, params.id)
          return html(yield* Effect.promise(async () => await (<UploadStatus {...props} />)))
        }),
      ),
    )
}
