import type { Schema } from "effect"
import type { DocumentDecoration } from "elysia"

/** A schema that needs no service to decode: every request and response schema of the API. */
export type DocSchema = Schema.Schema.AnyNoContext

export interface ResponseDoc {
  readonly description: string
  /** The JSON body; absent for an empty answer (204). */
  readonly schema?: DocSchema
}

/**
 * What the OpenAPI document says about one route. The route's method and path are not repeated here:
 * they are read from the route this is attached to, so the two cannot disagree.
 */
export interface RouteDoc {
  readonly summary: string
  readonly description?: string
  /** The group the route is listed under on /docs: the feature's name, as a user knows it. */
  readonly tag: string
  /** The permission the route's guard asks for (`"view"`, `"upload"`, `"operate"`…), or `"public"`. */
  readonly access: string
  /** A state-changing call (`guard(…, "change")`): a cookie session must send `x-csrf-token` too. */
  readonly changes?: boolean
  /** The path parameters, as a Struct of strings (`{ id: Schema.String }`). */
  readonly params?: DocSchema
  /** The query parameters: the very Struct the handler decodes them with. */
  readonly query?: DocSchema
  /** The JSON body: the very schema the handler decodes it with. */
  readonly body?: DocSchema
  /** The success answers by status. */
  readonly responses: Readonly<Record<number, ResponseDoc>>
  /**
   * Failure statuses particular to this route (404, 409, 413, 429…). 400 (when it takes input),
   * 401/403 (when it is not public), 500 and 503 are added for every route.
   */
  readonly errors?: ReadonlyArray<number>
}

const ROUTE_DOC = "x-scopeline-route"

/**
 * The `detail` of a route: `.get("/uploads", handler, { detail: documented({ … }) })`. It sits on the
 * route itself, so a feature documents its routes where it declares them, and the OpenAPI document is
 * read from the app's routes (`test/api/openapi.test.ts` fails on a /v1 route without one).
 */
export const documented = (doc: RouteDoc): DocumentDecoration & { readonly [ROUTE_DOC]: RouteDoc } => ({
  summary: doc.summary,
  tags: [doc.tag],
  [ROUTE_DOC]: doc,
})

/** The RouteDoc that `documented` attached to a route's `detail`, if any. */
export const routeDocOf = (detail: unknown): RouteDoc | undefined =>
  typeof detail === "object" && detail !== null && ROUTE_DOC in detail ? (detail[ROUTE_DOC] as RouteDoc) : undefined
