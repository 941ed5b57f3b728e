import { Schema } from "effect"

/**
 * An error that crosses the HTTP boundary: it carries its own status and machine-readable code, so
 * one mapping (respond.ts for the API, pageResponder.ts for pages) serves every error of every
 * feature. Features declare errors that name their domain (`UploadNotFound`, `LoginThrottled`) with
 * `httpError(...)`; the generic ones below are for conditions no domain owns (an unreadable body).
 */
export interface HttpError {
  readonly _tag: string
  readonly message: string
  readonly details?: unknown
  readonly status: number
  /** Stable across releases: clients switch on it. */
  readonly code: string
  /** Seconds, sent as `Retry-After` (429, 503). */
  readonly retryAfterSeconds?: number
  /** The session cannot go on (no, expired or unreadable token): pages send the browser to sign in. */
  readonly endsSession?: boolean
}

const fields = {
  message: Schema.String,
  details: Schema.optional(Schema.Unknown),
}

/**
 * The base class of an error with an HTTP status: `class UploadNotFound extends httpError("UploadNotFound",
 * 404, "not_found") {}`. A Schema.TaggedError, so it can cross a queue or page boundary encoded.
 */
export const httpError = <Tag extends string>(tag: Tag, status: number, code: string) => {
  class Base extends Schema.TaggedError<Base>()(tag, fields) {
    get status(): number {
      return status
    }
    get code(): string {
      return code
    }
  }
  return Base
}

export class BadRequest extends httpError("BadRequest", 400, "bad_request") {}
export class Unauthorized extends httpError("Unauthorized", 401, "unauthorized") {
  get endsSession(): boolean {
    return true
  }
}
export class Forbidden extends httpError("Forbidden", 403, "forbidden") {}
export class NotFound extends httpError("NotFound", 404, "not_found") {}
export class Conflict extends httpError("Conflict", 409, "conflict") {}
export class PayloadTooLarge extends httpError("PayloadTooLarge", 413, "payload_too_large") {}
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  ...fields,
  retryAfterSeconds: Schema.Int,
}) {
  get status(): number {
    return 429
  }
  get code(): string {
    return "too_many_requests"
  }
}

/** Any error a route may fail with. */
export type ApiError = HttpError

export const isApiError = (u: unknown): u is HttpError =>
  typeof u === "object" &&
  u !== null &&
  typeof (u as { status?: unknown }).status === "number" &&
  typeof (u as { code?: unknown }).code === "string" &&
  typeof (u as { message?: unknown }).message === "string"

/**
 * An error as one sentence for a page: its message, then each problem of its `details` ("path message";
 * a 400's list from readableProblems), so a form shown again says what to change.
 */
export const errorSentence = (error: { readonly message: string; readonly details?: unknown }): string => {
  if (!Array.isArray(error.details) || error.details.length === 0) return error.message
  const problems = error.details.map((d: { readonly path?: unknown; readonly message?: unknown }) => `${String(d.path ?? "")} ${String(d.message ?? "")}`.trim())
  return `${error.message} ${problems.join("; ")}`
}
