import { can, currentUser, guard, type Principal, renderPage, signedIn } from "@scopeline/accounts"
import type { User } from "@scopeline/accounts"
import { FactorSearch, FactorsRepo, parseUnit } from "@scopeline/catalogue"
import { type ApiError, BadRequest, errorSentence } from "@scopeline/ui/ApiError"
import { decodeInput, formBody, formText, QueryInt, queryParams } from "@scopeline/ui/decode"
import { formatCount } from "@scopeline/ui/format"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Either, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeQueueCursor, DecisionRequest, encodeQueueCursor, Review } from "../Review.ts"
import type { ReviewItemRow } from "../ReviewRepo.ts"
import { FactorResults, type QueuePosition, type ReviewItemView, ReviewPage } from "../views/ReviewPage.tsx"
import { activityIdOf, ReviewQueueParams } from "./reviewApi.ts"
import type { MatchingServices } from "./services.ts"

const DEFAULT_LIMIT = 25
// Enough to choose from; a person refines the words rather than paging through a search here.
const SEARCH_RESULTS = 10

const Count = QueryInt.pipe(Schema.between(0, 1_000_000_000))

/**
 * The queue's query, and what the last action left to say. Only numbers and an activity id travel in
 * the address: the factor a notice names is read from that activity's history, never echoed as text.
 */
const ReviewPageParams = Schema.Struct({
  ...ReviewQueueParams.fields,
  decided: Schema.optional(Schema.UUID),
  updated: Schema.optional(Count),
  accepted: Schema.optional(Count),
})

const FactorSearchParams = Schema.Struct({
  for: Schema.UUID,
  unit: Schema.String.pipe(Schema.maxLength(100)),
  q: Schema.optionalWith(Schema.String.pipe(Schema.maxLength(200)), { default: () => "" }),
})

const badCursor = () =>
  new BadRequest({ message: "The cursor is not one this server issued.", details: [{ path: "cursor", message: "is not a cursor this server issued" }] })

const dimensionOf = (unit: string) => Option.getOrNull(Option.map(parseUnit(unit), (u) => u.dimension))
const dimensionText = (dimension: string | null) => (dimension === null ? null : dimension.replaceAll("_", " "))

const itemView = (row: ReviewItemRow, refused?: { readonly error: string; readonly note: string | undefined }): ReviewItemView => ({
  matchKey: row.matchKey,
  description: row.description,
  unit: row.unit,
  dimension: dimensionText(dimensionOf(row.unit)),
  geography: row.geography,
  activityCount: row.activityCount,
  failed: row.failed,
  kgCo2e: row.kgCo2e,
  activityId: row.sampleActivityId,
  factor: row.factor,
  confidence: row.confidence,
  candidates: row.candidates,
  error: refused?.error,
  note: refused?.note,
})

/**
 * The page of the queue a form came from, as its hidden fields carry it. Checked before anything is
 * decided: a forged cursor is a 400 with nothing changed, not a decision followed by a broken page.
 */
const positionOf = (form: FormData): Effect.Effect<QueuePosition, BadRequest> => {
  const cursor = formText(form, "cursor")
  const limit = Number(formText(form, "limit"))
  const position = { cursor: cursor === "" ? undefined : cursor, limit: Number.isInteger(limit) && limit >= 1 && limit <= 200 ? limit : undefined }
  return position.cursor !== undefined && Option.isNone(decodeQueueCursor(position.cursor)) ? Effect.fail(badCursor()) : Effect.succeed(position)
}

const queueHref = (position: QueuePosition, extra: Record<string, string> = {}) => {
  const search = new URLSearchParams()
  if (position.limit !== undefined && position.limit !== DEFAULT_LIMIT) search.set("limit", String(position.limit))
  if (position.cursor !== undefined) search.set("cursor", position.cursor)
  for (const [key, value] of Object.entries(extra)) search.set(key, value)
  const query = search.toString()
  return query ? `/review?${query}` : "/review"
}

const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } })

/** The refusals a decision can meet: shown on the queue, next to the key, with the note as typed. */
const REFUSALS = ["BadRequest", "UnknownFactor", "UnitIncompatible", "NotDecidable", "NothingToAccept", "ActivityNotFound"]

// Only a 400 lists its problems; the other refusals' details are data (the known factors, …), not sentences.
const readable = (error: ApiError) => (error._tag === "BadRequest" ? errorSentence(error) : error.message)

const activities = (n: number) => `${formatCount(n)} ${n === 1 ? "activity" : "activities"}`

/** /review: the review queue; accountants and admins decide there, one key at a time or several at once. */
export const reviewPages = (respond: Responder<MatchingServices>) => {
  const { page } = pageResponder(respond)

  const queuePage = (
    request: Request,
    who: { readonly principal: Principal; readonly user: User },
    position: QueuePosition,
    status: number,
    said: {
      readonly notice?: string | undefined
      readonly error?: string | undefined
      readonly refused?: { readonly activityId: string; readonly error: string; readonly note: string | undefined }
    } = {},
  ) =>
    Effect.gen(function* () {
      const after = position.cursor === undefined ? null : yield* Option.match(decodeQueueCursor(position.cursor), { onNone: () => Effect.fail(badCursor()), onSome: Effect.succeed })
      const limit = position.limit ?? DEFAULT_LIMIT
      const queue = yield* (yield* Review).queue(limit, after)
      const items = queue.items.map((row) => itemView(row, said.refused?.activityId === row.sampleActivityId ? said.refused : undefined))
      // A refusal on a key that has left the page meanwhile still needs saying.
      const orphan = said.refused !== undefined && !items.some((item) => item.activityId === said.refused?.activityId)
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Review", status, principal: who.principal, user: who.user, location: queueHref(position) },
          <ReviewPage
            items={items}
            editable={can(who.principal.role, "upload")}
            position={{ cursor: position.cursor, limit: position.limit }}
            nextHref={queue.next === null ? null : queueHref({ limit: position.limit, cursor: encodeQueueCursor(queue.next) })}
            firstHref={position.cursor === undefined ? null : queueHref({ limit: position.limit, cursor: undefined })}
            notice={said.notice}
            error={said.error ?? (orphan ? said.refused?.error : undefined)}
          />,
        ),
      )
    })

  /** "Decided: 2 activities now use …", naming the factor the activity's history says it now has. */
  const decidedNotice = (activityId: string, updated: number | undefined) =>
    Review.pipe(
      Effect.flatMap((review) => review.history(activityId)),
      Effect.map((history) => {
        const last = history[history.length - 1]
        if (last === undefined || last.source !== "manual" || last.toFactor === null) return undefined
        const count = updated ?? 1
        if (last.fromFactor?.id === last.toFactor.id) {
          return `Accepted: ${activities(count)} ${count === 1 ? "keeps" : "keep"} ${last.toFactor.name} (${last.toFactor.ref}), now reviewed.`
        }
        return `Decided: ${activities(count)} now ${count === 1 ? "uses" : "use"} ${last.toFactor.name} (${last.toFactor.ref}).`
      }),
      Effect.catchTag("ActivityNotFound", () => Effect.succeed(undefined)),
    )

  return new Elysia({ name: "pages.review" })
    .get("/review", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          const params = yield* decodeInput(ReviewPageParams, "address")(queryParams(request))
          const notice =
            params.decided !== undefined
              ? yield* decidedNotice(params.decided, params.updated)
              : params.accepted !== undefined
                ? `Accepted ${formatCount(params.accepted)} ${params.accepted === 1 ? "key" : "keys"}: ${activities(params.updated ?? 0)} reviewed.`
                : undefined
          const limit = new URL(request.url).searchParams.has("limit") ? params.limit : undefined
          return yield* queuePage(request, { principal, user }, { cursor: params.cursor, limit }, 200, { notice })
        }),
      ),
    )
    .post(
      "/review/decide",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const form = yield* formBody(request)
            const position = yield* positionOf(form)
            const activityId = formText(form, "activity_id") ?? ""
            const note = formText(form, "note")
            const chosen = formText(form, "use_factor_id")
            const body = {
              ...(chosen !== undefined ? { factor_id: chosen } : formText(form, "accept") === "true" ? { accept: true } : {}),
              applies_to: "key",
              ...(note?.trim() ? { note } : {}),
            }
            const decided = yield* Effect.gen(function* () {
              if (!("factor_id" in body) && !("accept" in body)) {
                return yield* new BadRequest({ message: "Choose a factor (Use this factor, or Use on a search result), or accept the current one." })
              }
              const id = yield* activityIdOf(activityId)
              const request_ = yield* decodeInput(DecisionRequest, "decision")(body)
              return yield* (yield* Review).decide(id, request_, { userId: principal.userId, role: principal.role })
            }).pipe(Effect.either)
            if (Either.isRight(decided)) {
              return seeOther(queueHref(position, { decided: decided.right.decision.activity_id, updated: String(decided.right.activities_updated) }))
            }
            if (!REFUSALS.includes(decided.left._tag)) return yield* Effect.fail(decided.left)
            const user = yield* currentUser(principal)
            return yield* queuePage(request, { principal, user }, position, decided.left.status, {
              refused: { activityId, error: readable(decided.left), note },
            })
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/review/accept",
      ({ request }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const form = yield* formBody(request)
            const position = yield* positionOf(form)
            const ids = [...new Set(form.getAll("activity_id").filter((value): value is string => typeof value === "string"))]
            const user = yield* currentUser(principal)
            if (ids.length === 0) return yield* queuePage(request, { principal, user }, position, 400, { error: "Select at least one key to accept." })
            const review = yield* Review
            // Each key is its own decision (and audit event): one refused key leaves the others accepted.
            const outcomes = yield* Effect.forEach(ids, (id) =>
              activityIdOf(id).pipe(
                Effect.flatMap((valid) => review.decide(valid, { accept: true, applies_to: "key" }, { userId: principal.userId, role: principal.role })),
                Effect.either,
              ),
            )
            const accepted = outcomes.filter(Either.isRight).map((outcome) => outcome.right)
            const refused = outcomes.filter(Either.isLeft).map((outcome) => outcome.left)
            const unexpected = refused.find((error) => !REFUSALS.includes(error._tag))
            if (unexpected !== undefined) return yield* Effect.fail(unexpected)
            const updated = accepted.reduce((sum, decision) => sum + decision.activities_updated, 0)
            if (refused.length === 0) return seeOther(queueHref(position, { accepted: String(accepted.length), updated: String(updated) }))
            return yield* queuePage(request, { principal, user }, position, 409, {
              notice: accepted.length === 0 ? undefined : `Accepted ${formatCount(accepted.length)} ${accepted.length === 1 ? "key" : "keys"}: ${activities(updated)} reviewed.`,
              error: `${formatCount(refused.length)} of ${formatCount(ids.length)} could not be accepted: ${[...new Set(refused.map(readable))].join(" ")}`,
            })
          }),
        ),
      { parse: "none" },
    )
    .get("/review/factors", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "upload")
          // A part of the queue page: its Use buttons submit that page's forms, so on its own it leads back there.
          if (request.headers.get("hx-request-type") !== "partial") return seeOther("/review")
          const params = yield* decodeInput(FactorSearchParams, "search")(queryParams(request))
          const dimension = dimensionOf(params.unit)
          const q = params.q.trim()
          const found =
            q === ""
              ? { rows: [], total: 0 }
              : yield* (yield* FactorsRepo).search(FactorSearch.make({ q, ...(dimension === null ? {} : { dimension }), limit: SEARCH_RESULTS, offset: 0 }))
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Catalogue search", principal, user },
              <FactorResults
                activityId={params.for}
                q={q}
                dimension={dimensionText(dimension)}
                total={found.total}
                factors={found.rows.map((f) => ({ id: f.id, ref: f.ref, name: f.name, unit: f.unit, factorValue: f.factorValue, factorUnit: f.factorUnit }))}
              />,
            ),
          )
        }),
      ),
    )
}
