import { renderPage, signedIn, UsersRepo } from "@scopeline/accounts"
import { allActions, AuditRepo, Category } from "@scopeline/events"
import { decodeInput, queryParams } from "@scopeline/ui/decode"
import { atReaderWallClock } from "@scopeline/ui/format"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Either, Option } from "effect"
import { Elysia } from "elysia"
import { AuditEventsQuery, filterOf } from "../AuditQuery.ts"
import { AuditLogPage, UploadHistoryPage } from "../views/AuditPage.tsx"
import { uploadStory } from "./auditApi.ts"
import type { AuditServices } from "./services.ts"

/** Every account by id, as the log names them (an email; a deleted account says so). */
const people = Effect.gen(function* () {
  const everyone = yield* (yield* UsersRepo).everyone()
  return new Map<string, string>(everyone.map((person) => [person.id, person.deleted ? `${person.email} (deleted)` : person.email]))
})

export const auditPages = (respond: Responder<AuditServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.audit" })
    .get("/admin/audit", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "administer")
          const filters = queryParams(request)
          // The page shows times in the reader's zone, so a time typed without one is read in it too.
          const inReaderZone = Object.fromEntries(
            Object.entries(filters).map(([name, value]) => [name, name === "from" || name === "to" ? atReaderWallClock(value, reader) : value]),
          )
          const query = yield* decodeInput(AuditEventsQuery, "filter")(inReaderZone).pipe(Effect.either)
          // A filter that does not parse is said on the page, with the filters kept to correct it.
          const result = Either.isLeft(query)
            ? { events: [], nextCursor: Option.none<string>(), error: `${query.left.message} ${describe(query.left.details)}` }
            : yield* (yield* AuditRepo).list(filterOf(query.right), query.right.limit, Option.fromNullable(query.right.cursor))
          const nextHref = Option.match(result.nextCursor, {
            onNone: () => null,
            onSome: (cursor) => `/admin/audit?${new URLSearchParams({ ...filters, cursor }).toString()}`,
          })
          const named = yield* people
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Audit log", principal, user, status: Either.isLeft(query) ? 400 : 200 },
              <AuditLogPage
                events={result.events}
                people={named}
                actions={[...allActions].sort()}
                reader={reader}
                filters={filters}
                categories={Category.literals}
                nextHref={nextHref}
                {...("error" in result ? { error: result.error } : {})}
              />,
            ),
          )
        }),
      ),
    )
    .get("/uploads/:id/history", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "view")
          const events = yield* uploadStory(params.id)
          const named = yield* people
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Upload history", principal, user },
              <UploadHistoryPage uploadId={params.id} events={events} people={named} reader={reader} />,
            ),
          )
        }),
      ),
    )
}

const describe = (details: unknown) =>
  Array.isArray(details)
    ? details
        .map((issue: { readonly path?: unknown; readonly message?: unknown }) => `${String(issue.path ?? "")}: ${String(issue.message ?? "")}`)
        .join("; ")
    : ""
