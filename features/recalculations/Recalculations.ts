import type { Principal } from "@scopeline/accounts"
import { FactorsRepo } from "@scopeline/catalogue"
import { CurrentCorrelationId } from "@scopeline/settings/Correlation"
import { UploadId, UploadNotFound, UploadsRepo } from "@scopeline/uploads"
import { Effect, FiberRef, Option, Schema } from "effect"
import { RecalculationNotFound, UnknownFactorSet } from "./errors.ts"
import { RecalculationId, type RecalculationRequest } from "./Recalculation.ts"
import { RecalculationsRepo } from "./RecalculationsRepo.ts"

const notFound = () => new RecalculationNotFound({ message: "There is no recalculation with this id." })

/**
 * Asking for a recalculation and reading what it found. Asking only queues it (the worker runs it,
 * RunRecalculation.ts): the request checks the set and the upload exist, so what is queued can run.
 */
export class Recalculations extends Effect.Service<Recalculations>()("scopeline/Recalculations", {
  effect: Effect.gen(function* () {
    const repo = yield* RecalculationsRepo
    const factors = yield* FactorsRepo
    const uploads = yield* UploadsRepo

    const request = Effect.fn("Recalculations.request")(function* (by: Principal, body: RecalculationRequest) {
      const set = yield* factors.findSet(body.factor_set)
      if (Option.isNone(set)) {
        const known = (yield* factors.sets()).map((s) => s.id)
        return yield* new UnknownFactorSet({
          message: `The catalogue has no factor set ${body.factor_set}.`,
          details: { factor_set: body.factor_set, known },
        })
      }
      if (body.upload_id !== undefined) {
        const upload = yield* uploads.findById(UploadId.make(body.upload_id))
        if (Option.isNone(upload)) return yield* new UploadNotFound({ message: "There is no such upload." })
      }
      const correlation = yield* FiberRef.get(CurrentCorrelationId)
      return yield* repo.insert({
        factorSet: set.value.id,
        uploadId: body.upload_id ?? null,
        preview: body.preview,
        requestedBy: by.userId,
        requestedRole: by.role,
        correlationId: Option.getOrElse(correlation, () => crypto.randomUUID()),
      })
    })

    /** The recalculation with this id (a malformed id names none: 404). */
    const get = Effect.fn("Recalculations.get")(function* (id: string) {
      const valid = yield* Schema.decodeUnknown(RecalculationId)(id).pipe(Effect.mapError(notFound))
      const found = yield* repo.findById(valid)
      return yield* Option.match(found, { onNone: () => Effect.fail(notFound()), onSome: Effect.succeed })
    })

    return { request, get, list: repo.list, unmapped: repo.unmapped }
  }),
  dependencies: [RecalculationsRepo.Default, FactorsRepo.Default, UploadsRepo.Default],
}) {}
