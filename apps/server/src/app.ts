import { Elysia } from "elysia"
import { activitiesApi } from "./api/activities.ts"
import { adminApi } from "./api/admin.ts"
import { authApi } from "./api/auth.ts"
import { blobsApi } from "./api/blobs.ts"
import { catalogueApi } from "./api/catalogue.ts"
import { opsApi } from "./api/ops.ts"
import { uploadsApi } from "./api/uploads.ts"
import { meApi } from "./api/me.ts"
import { healthApi, systemApi } from "./api/system.ts"
import { errorBody, json, type Responder } from "./http/respond.ts"
import { authPages } from "./pages/authPages.tsx"
import { activitiesPage } from "./pages/activitiesPage.tsx"
import { cataloguePages } from "./pages/cataloguePages.tsx"
import { homePage } from "./pages/homePage.tsx"
import { uploadPages } from "./pages/uploadPages.tsx"
import { opsPage } from "./pages/opsPage.tsx"
import { errorPage } from "./pages/render.tsx"
import type { ServerServices } from "./ServerServices.ts"
import { staticAssets } from "./static.ts"

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
