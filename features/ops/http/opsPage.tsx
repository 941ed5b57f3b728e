import { guard } from "@scopeline/accounts"
import { SqlClient } from "@effect/sql"
import { AppConfig } from "@scopeline/settings/AppConfig"
import type { DeadLetter } from "@scopeline/queue/Queue"
import { Queue } from "@scopeline/queue/Queue"
import { DeadLetters, type DeadLetterView, OpsPage } from "../views/OpsPage.tsx"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { deliveryView, WebhookDeliveries, Webhooks } from "@scopeline/webhooks"
import { deadLettersOf, QUEUES, queueDepths, replayDeadLetter } from "./opsApi.ts"
import type { Responder } from "@scopeline/ui/respond"
import type { OpsServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { currentUser, readerOf, renderPage, signedIn } from "@scopeline/accounts"

const deadLetterView = (letter: DeadLetter): DeadLetterView => ({
  id: letter.id,
  queue: letter.queue,
  body: letter.body,
  receiveCount: letter.receiveCount,
  lastError: letter.lastError,
  deadAt: letter.deadAt,
})

const databaseReachable = SqlClient.SqlClient.pipe(
  Effect.flatMap((sql) => sql`SELECT 1`),
  Effect.timeout("2 seconds"),
  Effect.as(true),
  Effect.catchAll(() => Effect.succeed(false)),
)

/** /ops (admins): queue depths, dead letters with replay, health. */
export const opsPage = (respond: Responder<OpsServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.ops" })
    .get("/ops", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, reader } = yield* signedIn(request, "operate")
          const queue = yield* Queue
          const config = yield* AppConfig
          const { queues, letters, database, deadDeliveries } = yield* Effect.all(
            {
              queues: queueDepths(queue),
              letters: deadLettersOf(queue),
              database: databaseReachable,
              deadDeliveries: Webhooks.pipe(Effect.flatMap((webhooks) => webhooks.deliveries("dead", 50))),
            },
            { concurrency: "unbounded" },
          )
          return yield* Effect.promise(() =>
            renderPage(
              request,
              { title: "Operations", principal, user },
              <>
                <OpsPage health={{ database, version: config.version }} queues={queues} deadLetters={letters.map(deadLetterView)} reader={reader} />
                <WebhookDeliveries
                  deliveries={deadDeliveries.map(deliveryView)}
                  reader={reader}
                  heading="Dead webhook deliveries"
                  empty="No dead webhook deliveries: every delivery was made or is still being retried."
                />
              </>,
            ),
          )
        }),
      ),
    )
    .post(
      "/ops/dead-letters/:queue/:id/replay",
      ({ request, params }) =>
        page(
          request,
          Effect.gen(function* () {
            // Cookie sessions must echo the CSRF token (htmx sends it from <body hx-headers:inherited>).
            const principal = yield* guard(request, "operate", "change")
            const queueName = QUEUES.find((name) => name === params.queue)
            // Someone else may have replayed it a moment ago: say so in the list rather than fail.
            const notice = queueName
              ? yield* replayDeadLetter(queueName, params.id, principal).pipe(
                  Effect.as(`Replayed ${queueName} message ${params.id}: it is back on its queue.`),
                  Effect.catchTag("DeadLetterNotFound", () => Effect.succeed(`Message ${params.id} is no longer a dead letter.`)),
                )
              : `There is no queue named "${params.queue}".`
            const letters = yield* deadLettersOf(yield* Queue)
            const reader = readerOf(yield* currentUser(principal))
            return yield* Effect.promise(() =>
              renderPage(request, { title: "Operations" }, <DeadLetters deadLetters={letters.map(deadLetterView)} notice={notice} reader={reader} />),
            )
          }),
        ),
      { parse: "none" },
    )
}
