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

const isApiPath = (request: Request) => new URL(request.url).pathname.startsWith("/v1/")

/** The whole HTTP surface: the /v1 JSON API and the htmx pages, as separate plugins. */
export const makeApp = (respond: Responder<ServerServices>, options: { readonly maxRequestBodySize?: number } = {}) =>
  // Uploads stream to the local blob store; the body limit sits above the largest allowed file.
  new Elysia({ name: "scopeline", serve: { maxRequestBodySize: options.maxRequestBodySize ?? 1024 * 1024 * 1024 } })
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
