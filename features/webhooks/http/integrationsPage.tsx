import { apiKeyIdOf, ApiKeyRequest, ApiKeys, currentUser, guard, readerOf, renderPage, signedIn, type Principal } from "@scopeline/accounts"
import { type ApiError, errorSentence } from "@scopeline/ui/ApiError"
import { decodeInput, formBody } from "@scopeline/ui/decode"
import { pageResponder } from "@scopeline/ui/pageResponder"
import type { Responder } from "@scopeline/ui/respond"
import { Effect, Either } from "effect"
import { Elysia } from "elysia"
import { WebhookNotFound } from "../errors.ts"
import { type Delivery, WebhookEventType, WebhookRequest, Webhooks } from "../Webhooks.ts"
import { type DeliveryView, IntegrationsPage, type IntegrationsPageProps, type TypedValues } from "../views/IntegrationsPage.tsx"
import { deliveryIdOf, webhookIdOf } from "./webhooksApi.ts"
import type { WebhooksServices } from "./services.ts"

const field = (form: FormData, name: string) => {
  const value = form.get(name)
  return typeof value === "string" ? value.trim() : undefined
}

export const deliveryView = (delivery: Delivery): DeliveryView => ({
  id: delivery.id,
  url: delivery.url,
  eventType: delivery.eventType,
  status: delivery.status,
  attempts: delivery.attempts,
  lastError: delivery.lastError,
  createdAt: delivery.createdAt,
})

/** The sites ticked on the key form (a hand-made post may also send them comma-separated). */
const sitesOf = (form: FormData) =>
  form
    .getAll("site_ids")
    .flatMap((value) => (typeof value === "string" ? value.split(",") : []))
    .map((id) => id.trim())
    .filter((id) => id !== "")

/** What a refused form held, to show it again (a form without these fields leaves them undefined). */
const typedOf = (form: FormData): TypedValues => ({
  name: field(form, "name"),
  siteIds: sitesOf(form),
  url: field(form, "url"),
  events: form.has("url") ? form.getAll("events").filter((value) => typeof value === "string") : undefined,
})

/** The refusals a form can meet, shown on the page itself. */
const FORM_ERRORS = ["BadRequest", "WebhookTargetRefused", "WebhookNotFound", "ApiKeyNotFound", "ApiKeySitesUnknown", "DeliveryNotFound"]

export const integrationsPage = (respond: Responder<WebhooksServices>) => {
  const { page } = pageResponder(respond)

  const render = (request: Request, principal: Principal, status: number, extra: Partial<IntegrationsPageProps> = {}) =>
    Effect.gen(function* () {
      const user = yield* currentUser(principal)
      const webhooks = yield* Webhooks
      const apiKeys = yield* ApiKeys
      const [keys, sites, hooks, deliveries] = yield* Effect.all([apiKeys.list(), apiKeys.sites(), webhooks.list(), webhooks.deliveries(undefined, 50)])
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: "Integrations", status, principal, user, location: "/admin/integrations" },
          <IntegrationsPage
            keys={keys.map((key) => ({ id: key.id, name: key.name, prefix: key.prefix, scopes: key.scopes, siteIds: key.siteIds, lastUsedAt: key.lastUsedAt }))}
            sites={sites}
            webhooks={hooks.map((hook) => ({ id: hook.id, url: hook.url, events: hook.events }))}
            deliveries={deliveries.map(deliveryView)}
            eventTypes={WebhookEventType.literals}
            reader={readerOf(user)}
            {...extra}
          />,
        ),
      )
    })

  const action = (
    request: Request,
    permission: "administer" | "operate",
    run: (principal: Principal, form: FormData) => Effect.Effect<Partial<IntegrationsPageProps>, ApiError, WebhooksServices>,
  ) =>
    page(
      request,
      Effect.gen(function* () {
        const principal = yield* guard(request, permission, "change")
        const form = yield* formBody(request)
        const outcome = yield* run(principal, form).pipe(Effect.either)
        if (Either.isRight(outcome)) return yield* render(request, principal, 200, outcome.right)
        if (!FORM_ERRORS.includes(outcome.left._tag)) return yield* Effect.fail(outcome.left)
        return yield* render(request, principal, outcome.left.status, { error: errorSentence(outcome.left), typed: typedOf(form) })
      }),
    )


  return new Elysia({ name: "pages.integrations" })
    .get("/admin/integrations", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal } = yield* signedIn(request, "administer")
          return yield* render(request, principal, 200)
        }),
      ),
    )
    .post(
      "/admin/integrations/api-keys",
      ({ request }) =>
        action(request, "administer", (principal, form) =>
          Effect.gen(function* () {
            const sites = sitesOf(form)
            const body = yield* decodeInput(ApiKeyRequest, "API key")({
              name: field(form, "name") ?? "",
              scopes: form.getAll("scopes"),
              ...(sites.length === 0 ? {} : { site_ids: sites }),
            })
            const { key, secret } = yield* (yield* ApiKeys).create(principal, body)
            return { secret: { label: `API key "${key.name}"`, value: secret }, notice: `API key "${key.name}" created.` }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/integrations/api-keys/:id/revoke",
      ({ request, params }) =>
        action(request, "administer", (principal) =>
          Effect.gen(function* () {
            const id = yield* apiKeyIdOf(params.id)
            yield* (yield* ApiKeys).revoke(principal, id)
            return { notice: "The API key was revoked: it is refused from its next request." }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/integrations/webhooks",
      ({ request }) =>
        action(request, "administer", (principal, form) =>
          Effect.gen(function* () {
            const body = yield* decodeInput(WebhookRequest, "webhook")({ url: field(form, "url") ?? "", events: form.getAll("events") })
            const { webhook, secret } = yield* (yield* Webhooks).create(principal, body)
            return { secret: { label: `Signing secret of ${webhook.url}`, value: secret }, notice: "Webhook added." }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/integrations/webhooks/:id/test",
      ({ request, params }) =>
        action(request, "administer", (principal) =>
          Effect.gen(function* () {
            yield* (yield* Webhooks).sendTest(principal, yield* webhookIdOf(params.id))
            return { notice: "A test delivery is on its way." }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/integrations/webhooks/:id/delete",
      ({ request, params }) =>
        action(request, "administer", (principal) =>
          Effect.gen(function* () {
            yield* (yield* Webhooks).remove(principal, yield* webhookIdOf(params.id))
            return { notice: "Webhook deleted." }
          }),
        ),
      { parse: "none" },
    )
    .post(
      "/admin/integrations/deliveries/:id/replay",
      ({ request, params }) =>
        action(request, "operate", (principal) =>
          Effect.gen(function* () {
            yield* (yield* Webhooks).replay(principal, yield* deliveryIdOf(params.id))
            return { notice: "The delivery is queued again." }
          }),
        ),
      { parse: "none" },
    )
}
