import { can, currentUser, guard, type Principal, readerOf, renderPage, signedIn } from "@scopeline/accounts"
import { FactorsRepo } from "@scopeline/catalogue"
import { type ApiError, errorSentence } from "@scopeline/ui/ApiError"
import { decodeInput, formBody, formText, queryParams } from "@scopeline/ui/decode"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { type ReaderPreferences } from "@scopeline/ui/format"
import { UploadId, UploadsRepo } from "@scopeline/uploads"
import { uploadLabel } from "@scopeline/ui/uploadLabel"
import { Effect, Either } from "effect"
import { Elysia } from "elysia"
import { RecalculationRequest } from "../Recalculation.ts"
import { Recalculations } from "../Recalculations.ts"
import { RecalculationPage } from "../views/RecalculationPage.tsx"
import { type RecalculationFormValues, RecalculationsPage } from "../views/RecalculationsPage.tsx"
import { recalculationDetail, RecalculationQuery, RecalculationsQuery } from "./recalculationsApi.ts"
import type { RecalculationsServices } from "./services.ts"

const PAGE = 50
const UNMAPPED_PAGE = 100
// The form offers the newest uploads' activities; an older one is restated from its own page's link.
const UPLOADS_OFFERED = 50

/** The refusals the form can meet, shown on the page with what was chosen. */
const FORM_ERRORS = ["BadRequest", "UnknownFactorSet", "UploadNotFound"]

const fromForm = (form: FormData) => {
  const uploadId = formText(form, "upload_id")?.trim() ?? ""
  const values: RecalculationFormValues = {
    factorSet: formText(form, "factor_set")?.trim(),
    uploadId,
    preview: formText(form, "preview") === "true",
  }
  // Anything but "true" or "false" (or no field) is the decoder's 400, never taken for "apply".
  const preview = formText(form, "preview")
  const body = {
    factor_set: values.factorSet ?? "",
    ...(uploadId === "" ? {} : { upload_id: uploadId }),
    preview: preview === undefined || preview === "false" ? false : preview === "true" ? true : preview,
  }
  return { values, body }
}

/** The labels of the uploads these recalculations name, to show each as its file and time. */
const uploadLabels = (uploadIds: ReadonlyArray<string | null>, reader: ReaderPreferences) =>
  Effect.gen(function* () {
    const ids = [...new Set(uploadIds.filter((id): id is string => id !== null))].map((id) => UploadId.make(id))
    const found = yield* (yield* UploadsRepo).findByIds(ids)
    const labels = new Map<string, string>(found.map((upload) => [upload.id, uploadLabel(upload, reader)]))
    return (id: string | null) => (id === null ? null : { id, label: labels.get(id) ?? `upload ${id}` })
  })

/** /recalculations (list and form) and /recalculations/:id (status, restatement, what was not mapped). */
export const recalculationsPages = (respond: Responder<RecalculationsServices>) => {
  const { page } = pageResponder(respond)

  const listPage = (request: Request, principal: Principal, status: number, form?: { values: RecalculationFormValues; error?: string }) =>
    Effect.gen(function* () {
      const user = yield* currentUser(principal)
      const { offset } = yield* decodeInput(RecalculationsQuery, "page")(queryParams(request))
      const list = yield* (yield* Recalculations).list(offset, PAGE)
      const canStart = can(principal.role, "upload")
      const sets = canStart ? yield* (yield* FactorsRepo).sets() : []
      const reader = readerOf(user)
      const offered = canStart ? (yield* (yield* UploadsRepo).list({ offset: 0, limit: UPLOADS_OFFERED })).uploads : []
      const uploadOf = yield* uploadLabels(list.rows.map((r) => r.uploadId), reader)
      const href = (at: number) => (at === 0 ? "/recalculations" : `/recalculations?offset=${at}`)
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Recalculations", status, principal, user },
          <RecalculationsPage
            rows={list.rows.map((r) => ({
              id: r.id,
              factorSet: r.factorSet,
              upload: uploadOf(r.uploadId),
              preview: r.preview,
              status: r.status,
              createdAt: r.createdAt,
              changed: r.result?.counts.changed ?? null,
              unmapped: r.result?.counts.unmapped ?? null,
            }))}
            total={list.total}
            reader={reader}
            previousHref={offset > 0 ? href(Math.max(0, offset - PAGE)) : null}
            nextHref={offset + list.rows.length < list.total ? href(offset + PAGE) : null}
            form={
              canStart
                ? {
                    sets: sets.map((s) => ({ id: s.id, current: s.current })),
                    // Only a parsed upload has activities to restate.
                    uploads: offered.filter((u) => u.status === "parsed").map((u) => ({ id: u.id, label: uploadLabel(u, reader) })),
                    values: form?.values ?? {},
                    error: form?.error,
                  }
                : undefined
            }
          />,
        ),
      )
    })

  return new Elysia({ name: "pages.recalculations" })
    .get("/recalculations", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal } = yield* signedIn(request, "view")
          return yield* listPage(request, principal, 200)
        }),
      ),
    )
    .post(
      "/recalculations",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const { values, body } = fromForm(yield* formBody(request))
            const created = yield* decodeInput(RecalculationRequest, "recalculation")(body).pipe(
              Effect.flatMap((valid) => Recalculations.pipe(Effect.flatMap((service) => service.request(principal, valid)))),
              Effect.either,
            )
            if (Either.isRight(created)) return new Response(null, { status: 303, headers: { location: `/recalculations/${created.right.id}` } })
            if (!FORM_ERRORS.includes(created.left._tag)) return yield* Effect.fail(created.left)
            return yield* listPage(request, principal, created.left.status, { values, error: errorSentence(created.left) })
          }),
        ),
      { parse: "none" },
    )
    .get("/recalculations/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "view")
          const query = yield* decodeInput(RecalculationQuery, "page")(queryParams(request))
          const offset = query.unmapped_offset
          const { recalculation: r, unmapped } = yield* recalculationDetail(params.id, offset, UNMAPPED_PAGE)
          const uploadOf = yield* uploadLabels([r.uploadId], reader)
          const href = (at: number) => (at === 0 ? `/recalculations/${r.id}` : `/recalculations/${r.id}?unmapped_offset=${at}`)
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: `Recalculation on ${r.factorSet}`, principal, user },
              <RecalculationPage
                recalculation={{
                  id: r.id,
                  factorSet: r.factorSet,
                  upload: uploadOf(r.uploadId),
                  preview: r.preview,
                  status: r.status,
                  phase: r.phase,
                  activitiesInScope: r.activitiesInScope,
                  error: r.error,
                  createdAt: r.createdAt,
                  finishedAt: r.finishedAt,
                  restatement: r.result,
                }}
                unmapped={unmapped.rows.map((u) => ({
                  id: u.activityId,
                  row: u.rowNumber,
                  uploadId: u.uploadId,
                  description: u.description,
                  quantity: u.quantity,
                  unit: u.unit,
                  factorRef: u.factorRef,
                  message: u.message,
                }))}
                unmappedTotal={unmapped.total}
                unmappedOffset={offset}
                previousHref={offset > 0 ? href(Math.max(0, offset - UNMAPPED_PAGE)) : null}
                nextHref={offset + unmapped.rows.length < unmapped.total ? href(offset + UNMAPPED_PAGE) : null}
                reader={reader}
              />,
            ),
          )
        }),
      ),
    )
}
