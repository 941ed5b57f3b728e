import type { ReaderPreferences } from "@scopeline/ui/format"
import { Notices, TimeOrNever } from "@scopeline/ui/Notices"

export interface KeyView {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly scopes: ReadonlyArray<string>
  readonly siteIds: ReadonlyArray<string> | null
  readonly lastUsedAt: Date | null
}
export interface WebhookView {
  readonly id: string
  readonly url: string
  readonly events: ReadonlyArray<string>
}
export interface DeliveryView {
  readonly id: string
  readonly url: string
  readonly eventType: string
  readonly status: string
  readonly attempts: number
  readonly lastError: string | null
  readonly createdAt: Date
}

/** A site a key can be limited to. */
export interface SiteChoice {
  readonly id: string
  readonly code: string
  readonly name: string
}

export interface IntegrationsPageProps {
  readonly keys: ReadonlyArray<KeyView>
  readonly sites: ReadonlyArray<SiteChoice>
  readonly webhooks: ReadonlyArray<WebhookView>
  readonly deliveries: ReadonlyArray<DeliveryView>
  readonly eventTypes: ReadonlyArray<string>
  readonly reader: ReaderPreferences
  /** A secret just created (an API key's or a webhook's): shown once, to copy. */
  readonly secret?: { readonly label: string; readonly value: string }
  readonly notice?: string
  readonly error?: string
  /** What was typed into a form that was refused, shown again to correct. */
  readonly typed?: TypedValues
}

export interface TypedValues {
  readonly name?: string | undefined
  /** The sites ticked on the key form. */
  readonly siteIds?: ReadonlyArray<string> | undefined
  readonly url?: string | undefined
  /** The events ticked; undefined when the webhook form was not the one sent (then all are ticked). */
  readonly events?: ReadonlyArray<string> | undefined
}

/** /admin/integrations: API keys for devices, webhooks for alerts, and what was delivered. */
export const IntegrationsPage = (props: IntegrationsPageProps) => (
  <>
    <h1>Integrations</h1>
    <Notices id="integrations" notice={props.notice} error={props.error} />
    {props.secret === undefined ? null : (
      <section class="card" id="new-secret">
        <h2 safe>{props.secret.label}</h2>
        <p>Copy it now: it is shown only this once.</p>
        <label>
          Secret
          <input type="text" readonly id="secret-value" value={props.secret.value} />
        </label>
      </section>
    )}
    <section id="api-keys">
      <h2>API keys</h2>
      <p class="muted">For devices and integrations that post measurements: send the key as <code>Authorization: Bearer …</code>.</p>
      <form method="post" action="/admin/integrations/api-keys" id="api-key-form">
        <label>
          Name
          <input type="text" name="name" required maxlength="100" value={props.typed?.name} />
        </label>
        {props.sites.length === 0 ? null : (
          <fieldset id="api-key-sites">
            <legend>Sites it may send to (none ticked: every site)</legend>
            {props.sites.map((site) => (
              <label>
                <input type="checkbox" name="site_ids" value={site.id} checked={props.typed?.siteIds?.includes(site.id) ?? false} />{" "}
                <span safe>{`${site.code} · ${site.name}`}</span>
              </label>
            ))}
          </fieldset>
        )}
        <input type="hidden" name="scopes" value="measurements:write" />
        <button type="submit">Create key (measurements:write)</button>
      </form>
      {props.keys.length === 0 ? (
        <p class="muted">No API keys yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Scopes</th>
              <th>Sites</th>
              <th>Last used</th>
              <th>Action</th>
            </tr>
          </thead>
          <tbody>
            {props.keys.map((key) => (
              <tr data-api-key={key.id}>
                <td safe>{key.name}</td>
                <td>
                  <code safe>{`${key.prefix}…`}</code>
                </td>
                <td safe>{key.scopes.join(", ")}</td>
                <td safe>{key.siteIds === null ? "all" : key.siteIds.map((id) => props.sites.find((site) => site.id === id)?.code ?? id).join(", ")}</td>
                <td><TimeOrNever at={key.lastUsedAt} reader={props.reader} /></td>
                <td>
                  <form method="post" action={`/admin/integrations/api-keys/${key.id}/revoke`} hx-confirm={`Revoke the API key "${key.name}"? Devices using it are refused from their next request.`}>
                    <button type="submit" class="secondary" aria-label={`Revoke ${key.name}`}>
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
    <section id="webhooks">
      <h2>Webhooks</h2>
      <form method="post" action="/admin/integrations/webhooks" id="webhook-form">
        <label>
          URL
          <input type="url" name="url" required maxlength="2000" placeholder="https://example.com/scopeline" value={props.typed?.url} />
        </label>
        <fieldset>
          <legend>Events</legend>
          {props.eventTypes.map((type) => (
            <label>
              <input type="checkbox" name="events" value={type} checked={props.typed?.events?.includes(type) ?? true} /> <span safe>{type}</span>
            </label>
          ))}
        </fieldset>
        <button type="submit">Add webhook</button>
      </form>
      {props.webhooks.length === 0 ? (
        <p class="muted">No webhooks yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>URL</th>
              <th>Events</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.webhooks.map((webhook) => (
              <tr data-webhook={webhook.id}>
                <td safe>{webhook.url}</td>
                <td safe>{webhook.events.join(", ")}</td>
                <td>
                  <form method="post" action={`/admin/integrations/webhooks/${webhook.id}/test`} class="inline">
                    <button type="submit" class="secondary" aria-label={`Send test to ${webhook.url}`}>
                      Send test
                    </button>
                  </form>
                  <form
                    method="post"
                    action={`/admin/integrations/webhooks/${webhook.id}/delete`}
                    class="inline"
                    hx-confirm={`Delete the webhook to ${webhook.url}? Its queued deliveries are cancelled.`}
                  >
                    <button type="submit" class="danger" aria-label={`Delete ${webhook.url}`}>
                      Delete
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
    <WebhookDeliveries deliveries={props.deliveries} reader={props.reader} heading="Webhook deliveries" empty="Nothing delivered yet." />
  </>
)

/** A delivery's status in words: a queued one that has failed before is waiting for its next retry. */
const deliveryStatusText = (delivery: DeliveryView) =>
  delivery.status === "queued" && delivery.attempts > 0 ? "retrying" : delivery.status === "dead" ? "dead (retries used up)" : delivery.status

/**
 * Deliveries; a dead one (its last retry failed) has Replay. Integrations lists the recent ones, the
 * operations page only the dead, each with its own heading and empty text.
 */
export const WebhookDeliveries = (props: {
  readonly deliveries: ReadonlyArray<DeliveryView>
  readonly reader: ReaderPreferences
  readonly heading: string
  readonly empty: string
}) => (
  <section id="webhook-deliveries">
    <h2 safe>{props.heading}</h2>
    {props.deliveries.length === 0 ? (
      <p class="muted" id="no-webhook-deliveries" safe>
        {props.empty}
      </p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>Queued</th>
            <th>Event</th>
            <th>URL</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th>Last error</th>
            <th>Action</th>
          </tr>
        </thead>
        <tbody>
          {props.deliveries.map((delivery) => (
            <tr data-delivery={delivery.id} data-status={delivery.status}>
              <td><TimeOrNever at={delivery.createdAt} reader={props.reader} /></td>
              <td safe>{delivery.eventType}</td>
              <td safe>{delivery.url}</td>
              <td safe>{deliveryStatusText(delivery)}</td>
              <td class="num">{delivery.attempts}</td>
              <td class="failure" safe>
                {delivery.lastError ?? "—"}
              </td>
              <td>
                {delivery.status === "dead" ? (
                  <form method="post" action={`/admin/integrations/deliveries/${delivery.id}/replay`}>
                    <button type="submit" class="replay" aria-label={`Replay delivery ${delivery.id}`}>
                      Replay
                    </button>
                  </form>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)
