import { type ApiError, errorSentence } from "./ApiError.ts"
import { Effect } from "effect"
import { CORRELATION_HEADER, type Responder } from "./respond.ts"
import { errorPage } from "./render.tsx"
import { cookie, SESSION_COOKIE } from "./session.ts"

/** A page's heading for an error, by its status: the message under it says what happened. */
const titles: Record<number, string> = {
  400: "That request could not be understood",
  401: "Please sign in",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  410: "No longer available",
  413: "Too large",
  429: "Too many attempts",
}

/**
 * Pages share the API's runtime and error types but answer in HTML: a missing or expired session
 * goes to the sign-in page; every other error is a readable page with the right status.
 */
export const pageResponder = <R>(respond: Responder<R>) => ({
  page: async (request: Request, effect: Effect.Effect<Response, ApiError, R>): Promise<Response> => {
    const outcome = await respond.outcome(request, effect)
    switch (outcome._tag) {
      case "Ok":
        return outcome.response
      case "ApiError": {
        const error = outcome.error
        if (error.endsSession === true) {
          // The page as it was asked for, its filters too; a form's post is not a page to come back to.
          const url = new URL(request.url)
          const next = request.method === "GET" ? `${url.pathname}${url.search}` : url.pathname
          const location = next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`
          return new Response(null, {
            status: 303,
            headers: { location, "set-cookie": cookie(request, SESSION_COOKIE, "", 0) },
          })
        }
        // With each problem a 400 lists ("status must be one of …"): a filter in the address bar is fixed there.
        const refused = await errorPage(request, error.status, titles[error.status] ?? "That did not work", errorSentence(error))
        refused.headers.set(CORRELATION_HEADER, outcome.correlationId)
        return refused
      }
      case "Unavailable":
        return errorPage(
          request,
          503,
          "Temporarily unavailable",
          "Scopeline cannot reach its database right now. Please try again in a moment.",
          outcome.correlationId,
        )
      case "Defect":
        return errorPage(
          request,
          500,
          "Something went wrong",
          "Something went wrong on our side. The problem was logged; please try again.",
          outcome.correlationId,
        )
    }
  },
})
