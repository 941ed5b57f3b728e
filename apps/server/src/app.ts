import { Elysia } from "elysia"
import { activitiesApi } from "@scopeline/activities"
import { accountPages, adminApi, apiKeysApi, invitationsApi, teamPages } from "@scopeline/accounts"
import { auditApi, auditPages } from "@scopeline/audit"
import { integrationsPage, webhooksApi } from "@scopeline/webhooks"
import { authApi } from "@scopeline/accounts"
import { blobsApi } from "@scopeline/uploads"
import { catalogueApi, factorSetsApi } from "@scopeline/catalogue"
import { recalculationsApi, recalculationsPages } from "@scopeline/recalculations"
import { opsApi } from "@scopeline/ops"
import { reviewApi, reviewPages } from "@scopeline/matching"
import { uploadsApi } from "@scopeline/uploads"
import { meApi } from "@scopeline/accounts"
import { healthApi, systemApi } from "@scopeline/home"
import { errorBody, json, type Responder } from "@scopeline/ui/respond"
import { authPages } from "@scopeline/accounts"
import { activitiesPage } from "@scopeline/activities"
import { cataloguePages } from "@scopeline/catalogue"
import { homePage } from "@scopeline/home"
import { blobDownloads, dashboardPage, exportsApi, exportsPages, inventoryApi } from "@scopeline/inventory"
import { uploadPages } from "@scopeline/uploads"
import { opsPage } from "@scopeline/ops"
import { sitesApi, sitesPages } from "@scopeline/sites"
import { errorPage } from "@scopeline/ui/render"
import type { ServerServices } from "./ServerServices.ts"
import { staticAssets } from "@scopeline/ui/static"
import { apiDocs } from "@scopeline/ui/apiDocs"
import { pathOf, withSecurityHeaders } from "@scopeline/ui/securityHeaders"
import { rememberClientAddress } from "@scopeline/ui/clientAddress"
import type { Server } from "bun"
import { MAX_BODY_BYTES, UUID_TEXT } from "@scopeline/ui/decode"
import { BLOB_ROUTE } from "@scopeline/storage/LocalBlobStore"

// By string, not `new URL`: this also runs for requests whose Host header makes the URL unparsable.
// The blob endpoint is the API's too: programs (the upload script, the browser's fetch) call it.
const isApiPath = (request: Request) => pathOf(request).startsWith("/v1/") || pathOf(request).startsWith(BLOB_ROUTE)

/** An error answer in the request's kind: `{error:{code,message}}` under /v1, a short plain page elsewhere. */
const plainError = (request: Request, status: number, code: string, title: string, message: string, details?: unknown): Response =>
  isApiPath(request)
    ? json(errorBody(code, message, details), status)
    : new Response(`<!doctype html><title>${title}</title><h1>${title}</h1><p>${message}</p>`, {
        status,
        headers: { "content-type": "text/html; charset=utf-8" },
      })

/**
 * A Host header that is not a host (`Host: a b`, `Host: 127.0.0.1:abc`) gives Bun a `request.url`
 * that `new URL` refuses, and every route parses it; such a request is refused before any of them.
 */
const unparsableAddress = (request: Request): Response =>
  plainError(request, 400, "bad_request", "Bad request", "The request's Host header is not a valid host name.")

/**
 * A declared body above what any route but the blob endpoint reads: refused before routing, so a
 * route that lets Elysia parse its body can never be made to buffer one. (Bun's own
 * `maxRequestBodySize` is set out of reach because its 413 has no body; see docs/security.md.)
 */
const declaredTooLarge = (request: Request): boolean =>
  !pathOf(request).startsWith(BLOB_ROUTE) && Number(request.headers.get("content-length") ?? "0") > MAX_BODY_BYTES

// A UUID in a path names one thing whatever its case, and the id recorded for it (the audit log's
// object, an alert's key, a webhook's payload) must be one text too, as PostgreSQL writes it.
const UUID_SEGMENT = new RegExp(`/${UUID_TEXT}(?=/|$)`, "g")

/** The request with the UUIDs of its path in lower case (the same request when they already are). */
const withCanonicalIds = (request: Request): Request => {
  const path = pathOf(request)
  // The blob endpoint's paths are signed as they were issued.
  if (!/[A-F]/.test(path) || path.startsWith(BLOB_ROUTE)) return request
  const canonical = path.replace(UUID_SEGMENT, (segment) => segment.toLowerCase())
  if (canonical === path) return request
  const url = new URL(request.url)
  url.pathname = canonical
  // From the parts, not `new Request(url, request)`: in Bun a body copied that way cannot be
  // cancelled, so a body over the limit would never be answered with its 413.
  return new Request(url, { method: request.method, headers: request.headers, body: request.body, signal: request.signal, duplex: "half" } as RequestInit)
}

/**
 * The server's fetch handler around the app: the only code that sees every request and every
 * response (Elysia's hooks skip some, such as its own 404 and early answers from `onRequest`), so
 * the Host check, the body limit, the ids' case, the client address and the security headers live
 * here, once.
 */
export const makeFetch =
  (
    app: { readonly handle: (request: Request) => Promise<Response> },
    options: { readonly trustProxy: boolean; readonly logDefect?: (error: unknown) => void },
  ) =>
  async (received: Request, server: Server<undefined>): Promise<Response> => {
    if (!URL.canParse(received.url)) return withSecurityHeaders(received, unparsableAddress(received))
    const request = withCanonicalIds(received)
    if (declaredTooLarge(request)) {
      const message = `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`
      return withSecurityHeaders(request, plainError(request, 413, "payload_too_large", "Request too large", message, { max_bytes: MAX_BODY_BYTES }))
    }
    try {
      rememberClientAddress(request, server.requestIP(received)?.address, options.trustProxy)
      return withSecurityHeaders(request, await app.handle(request))
    } catch (error) {
      // Left to Bun, an escaped error is a text/plain "Something went wrong!" without our headers.
      options.logDefect?.(error)
      const message = "Something went wrong on our side. The problem was logged."
      return withSecurityHeaders(request, plainError(request, 500, "internal_error", "Something went wrong", message))
    }
  }

/** The whole HTTP surface: the /v1 JSON API and the htmx pages, as separate plugins. */
export const makeApp = (respond: Responder<ServerServices>) => {
  const app = new Elysia({ name: "scopeline" })
    // Errors Elysia raises itself (no route, unreadable body) get the same shapes as ours.
    .onError(({ code, request }) => {
      const status = code === "NOT_FOUND" ? 404 : code === "PARSE" || code === "VALIDATION" ? 400 : 500
      const message =
        status === 404
          ? "There is nothing at this address."
          : status === 400
            ? "The request could not be read."
            : "Something went wrong on our side."
      if (isApiPath(request)) {
        return json(errorBody(status === 404 ? "not_found" : status === 400 ? "bad_request" : "internal_error", message), status)
      }
      return errorPage(request, status, status === 404 ? "Not found" : "Something went wrong", message)
    })
    // PostgreSQL cannot store a NUL character, so one anywhere in the address (path or query, raw or
    // percent-encoded) is refused here, once, instead of failing deep inside whichever query uses it.
    .onRequest(({ request }) => {
      const { pathname, search } = new URL(request.url)
      if (!/%00|\u0000/i.test(pathname + search)) return
      const message = "The address contains a NUL character."
      return isApiPath(request) ? json(errorBody("bad_request", message), 400) : errorPage(request, 400, "That request could not be understood", message)
    })
    .use(staticAssets)
    .use(healthApi(respond))
    .use(authApi(respond))
    .use(meApi(respond))
    .use(systemApi(respond))
    .use(adminApi(respond))
    .use(invitationsApi(respond))
    .use(apiKeysApi(respond))
    .use(auditApi(respond))
    .use(webhooksApi(respond))
    .use(activitiesApi(respond))
    .use(reviewApi(respond))
    .use(inventoryApi(respond))
    .use(exportsApi(respond))
    .use(catalogueApi(respond))
    .use(factorSetsApi(respond))
    .use(recalculationsApi(respond))
    .use(opsApi(respond))
    .use(sitesApi(respond))
    .use(uploadsApi(respond))
    .use(blobsApi(respond))
    .use(blobDownloads(respond))
    .use(authPages(respond))
    .use(teamPages(respond))
    .use(accountPages(respond))
    .use(auditPages(respond))
    .use(integrationsPage(respond))
    .use(homePage(respond))
    .use(uploadPages(respond))
    .use(activitiesPage(respond))
    .use(reviewPages(respond))
    .use(dashboardPage(respond))
    .use(exportsPages(respond))
    .use(cataloguePages(respond))
    .use(recalculationsPages(respond))
    .use(opsPage(respond))
    .use(sitesPages(respond))
  // Last, and reading the routes only when first asked: the document lists every route above.
  return app.use(apiDocs(() => app.routes))
}
