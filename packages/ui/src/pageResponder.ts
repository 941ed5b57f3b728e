import type { ApiError } from "./ApiError.ts"
import { Effect } from "effect"
import type { Responder } from "./respond.ts"
import { errorPage } from "./render.tsx"
import { cookie, SESSION_COOKIE } from "./session.ts"

const titles: Record<ApiError["_tag"], string> = {
  BadRequest: "That request could not be understood",
  Unauthorized: "Please sign in",
  Forbidden: "Not allowed",
  NotFound: "Not found",
  Conflict: "Conflict",
  PayloadTooLarge: "Too large",
  TooManyRequests: "Too many attempts",
}

const statuses: Record<ApiError["_tag"], number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  TooManyRequests: 429,
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
        const sessionProblem =
          error._tag === "Unauthorized" || (error._tag === "BadRequest" && error.message.includes("token"))
        if (sessionProblem) {
          const next = new URL(request.url).pathname
          const location = next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`
          return new Response(null, {
            status: 303,
            headers: { location, "set-cookie": cookie(request, SESSION_COOKIE, "", 0) },
          })
        }
        return errorPage(request, statuses[error._tag], titles[error._tag], error.message)
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
