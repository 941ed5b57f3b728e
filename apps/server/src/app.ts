import { Elysia } from "elysia"
import { activitiesApi } from "@scopeline/activities"
import { adminApi } from "@scopeline/accounts"
import { authApi } from "@scopeline/accounts"
import { blobsApi } from "@scopeline/uploads"
import { catalogueApi } from "@scopeline/catalogue"
import { opsApi } from "@scopeline/ops"
import { uploadsApi } from "@scopeline/uploads"
import { meApi } from "@scopeline/accounts"
import { healthApi, systemApi } from "@scopeline/home"
import { errorBody, json, type Responder } from "@scopeline/ui/respond"
import { authPages } from "@scopeline/accounts"
import { activitiesPage } from "@scopeline/activities"
import { cataloguePages } from "@scopeline/catalogue"
import { homePage } from "@scopeline/home"
import { uploadPages } from "@scopeline/uploads"
import { opsPage } from "@scopeline/ops"
import { errorPage } from "@scopeline/ui/render"
import type { ServerServices } from "./ServerServices.ts"
import { staticAssets } from "@scopeline/ui/static"
import { pathOf, withSecurityHeaders } from "@scopeline/ui/securityHeaders"
import { rememberClientAddress } from "@scopeline/ui/clientAddress"
import type { Server } from "bun"

// By string, not `new URL`: this also runs for requests whose Host header makes the URL unparsable.
const isApiPath = (request: Request) => pathOf(request).startsWith("/v1/")

/**
 * A Host header that is not a host (`Host: a b`, `Host: 127.0.0.1:abc`) gives Bun a `request.url`
 * that `new URL` refuses, and every route parses it; such a request is refused before any of them.
 */
const unparsableAddress = (request: Request): Response => {
  const message = "The request's Host header is not a valid host name."
  return isApiPath(request)
    ? json(errorBody("bad_request", message), 400)
    : new Response(`<!doctype html><title>Bad request</title><h1>Bad request</h1><p>${message}</p>`, {
        status: 400,
        headers: { "content-type": "text/html; charset=utf-8" },
      })
}

/**
 * The server's fetch handler around the app: the only code that sees every request and every
 * response (Elysia's hooks skip some, such as its own 404 and early answers from `onRequest`), so
 * the Host check, the client address and the security headers live here, once.
 */
export const makeFetch =
  (app: { readonly handle: (request: Request) => Promise<Response> }, options: { readonly trustProxy: boolean }) =>
  async (request: Request, server: Server<undefined>): Promise<Response> => {
    if (!URL.canParse(request.url)) return withSecurityHeaders(request, unparsableAddress(request))
    rememberClientAddress(request, server.requestIP(request)?.address, options.trustProxy)
    return withSecurityHeaders(request, await app.handle(request))
  }

/** The whole HTTP surface: the /v1 JSON API and the htmx pages, as separate plugins. */
export const makeApp = (respond: Responder<ServerServices>) =>
  new Elysia({ name: "scopeline" })
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
    .use(activitiesApi(respond))
    .use(catalogueApi(respond))
    .use(opsApi(respond))
    .use(uploadsApi(respond))
    .use(blobsApi(respond))
    .use(authPages(respond))
    .use(homePage(respond))
    .use(uploadPages(respond))
    .use(activitiesPage(respond))
    .use(cataloguePages(respond))
    .use(opsPage(respond))
