import { type ApiError, isApiError } from "./ApiError.ts"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Effect, Exit, Option, Runtime } from "effect"
import { CurrentCorrelationId } from "@scopeline/settings/Correlation"

export const CORRELATION_HEADER = "x-correlation-id"

export const json = (body: unknown, status = 200, headers?: HeadersInit): Response =>
  Response.json(body, { status, headers })

export const html = (body: string, status = 200, headers?: HeadersInit): Response =>
  new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", ...headers } })

export const errorBody = (code: string, message: string, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
})

const correlationIdOf = (request: Request): string => {
  const incoming = request.headers.get(CORRELATION_HEADER)
  // Only accept ids that are safe to log and echo back.
  return incoming && /^[\w.-]{8,128}$/.test(incoming) ? incoming : crypto.randomUUID()
}

export type Outcome =
  | { readonly _tag: "Ok"; readonly response: Response }
  /** Refused: the correlation id is echoed so a client can quote it (its audit event carries it too). */
  | { readonly _tag: "ApiError"; readonly error: ApiError; readonly correlationId: string }
  /** The database cannot be reached: 503, worth retrying, not our code's fault. */
  | { readonly _tag: "Unavailable"; readonly correlationId: string }
  | { readonly _tag: "Defect"; readonly correlationId: string }

// PostgreSQL's "connection exception" class (08), shutdown and start-up states (57P01–57P03), an
// unknown database (3D000), and the socket errors of a server that is gone.
const UNREACHABLE = /^(08...|57P0[123]|3D000|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND)$/
const isDatabaseUnreachable = (defect: unknown): boolean => {
  if (!(defect instanceof SqlError)) return false
  const cause = defect.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  if (typeof cause?.code === "string" && UNREACHABLE.test(cause.code)) return true
  return typeof cause?.message === "string" && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(cause.message)
}

/**
 * The single place where an effect becomes an HTTP response: one runtime per process, each request
 * annotated with a correlation id that is logged and echoed in `x-correlation-id`.
 */
export const makeResponder = <R>(runtime: Runtime.Runtime<R>) => {
  const runExit = Runtime.runPromiseExit(runtime)

  const outcome = async (request: Request, effect: Effect.Effect<Response, ApiError, R>): Promise<Outcome> => {
    const correlationId = correlationIdOf(request)
    const url = new URL(request.url)
    const exit = await runExit(
      effect.pipe(
        Effect.tapErrorCause((cause) =>
          Cause.isFailure(cause) && !Cause.isDie(cause)
            ? Effect.logDebug("request rejected", Cause.squash(cause))
            : Effect.logError("request failed", cause),
        ),
        Effect.annotateLogs({ correlationId, method: request.method, path: url.pathname }),
        Effect.locally(CurrentCorrelationId, Option.some(correlationId)),
        Effect.withSpan("http.request", { attributes: { correlationId, path: url.pathname } }),
      ),
    )
    if (Exit.isSuccess(exit)) {
      exit.value.headers.set(CORRELATION_HEADER, correlationId)
      return { _tag: "Ok", response: exit.value }
    }
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure) && isApiError(failure.value)) return { _tag: "ApiError", error: failure.value, correlationId }
    if (isDatabaseUnreachable(Cause.squash(exit.cause))) return { _tag: "Unavailable", correlationId }
    return { _tag: "Defect", correlationId }
  }

  /** JSON API: errors become `{error:{code,message,details}}` with the error's status. */
  const api = async (request: Request, effect: Effect.Effect<Response, ApiError, R>): Promise<Response> => {
    const result = await outcome(request, effect)
    switch (result._tag) {
      case "Ok":
        return result.response
      case "ApiError": {
        const response = apiErrorResponse(result.error)
        response.headers.set(CORRELATION_HEADER, result.correlationId)
        return response
      }
      case "Unavailable":
        return json(
          errorBody("service_unavailable", "The database cannot be reached right now. Please try again shortly.", {
            correlation_id: result.correlationId,
          }),
          503,
          { [CORRELATION_HEADER]: result.correlationId, "retry-after": "5" },
        )
      case "Defect":
        return json(
          errorBody("internal_error", "Something went wrong on our side. The problem was logged.", {
            correlation_id: result.correlationId,
          }),
          500,
          { [CORRELATION_HEADER]: result.correlationId },
        )
    }
  }

  return { api, outcome }
}

export const apiErrorResponse = (error: ApiError): Response =>
  json(
    errorBody(error.code, error.message, error.details),
    error.status,
    error.retryAfterSeconds === undefined ? undefined : { "retry-after": String(error.retryAfterSeconds) },
  )

export type Responder<R> = ReturnType<typeof makeResponder<R>>
