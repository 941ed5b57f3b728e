import { JSONSchema, Schema } from "effect"
import { type DocSchema, type RouteDoc, routeDocOf } from "./RouteDoc.ts"

/** Every error answer of the API (respond.ts): one shape, whatever the status. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String.annotations({ description: "stable across releases: clients switch on it" }),
    message: Schema.String.annotations({ description: "for people; may change" }),
    details: Schema.optional(Schema.Unknown),
  }),
}).annotations({ identifier: "Error" })

const ERROR_MEANING: Readonly<Record<number, string>> = {
  400: "The input is invalid (`bad_request`); `details` lists each problem and where.",
  401: "Not signed in, or the session is over (`unauthorized`).",
  403: "This role may not do this, or a cookie session sent no valid CSRF token (`forbidden`).",
  404: "There is nothing with this id (`not_found`).",
  409: "The request conflicts with the current state (`conflict`).",
  413: "The body is larger than allowed (`payload_too_large`).",
  429: "Too many attempts (`too_many_requests`); `Retry-After` says when to try again.",
  500: "A defect on our side, logged (`internal_error`); `details.correlation_id` names it.",
  503: "The database cannot be reached (`service_unavailable`); `Retry-After` says when to try again.",
}

/** An Elysia route as `app.routes` lists it. */
export interface AppRoute {
  readonly method: string
  readonly path: string
  readonly hooks?: { readonly detail?: unknown }
}

/** Elysia's `/v1/uploads/:id` as OpenAPI writes it, `/v1/uploads/{id}`; no trailing slash. */
export const openApiPath = (path: string): string =>
  path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")

type JsonSchema = JSONSchema.JsonSchema7

/**
 * The OpenAPI 3.1 document of every documented route of `routes`, the schemas converted with
 * effect's JSONSchema from the same Schemas the handlers decode with; named schemas
 * (`identifier` annotations) land once in `components.schemas`.
 */
export const openApiDocument = (routes: ReadonlyArray<AppRoute>, info: { readonly title: string; readonly version: string; readonly description: string }) => {
  const definitions: Record<string, JsonSchema> = {}
  const toJson = (schema: DocSchema): JsonSchema =>
    JSONSchema.fromAST(schema.ast, { definitions, definitionPath: "#/components/schemas/", target: "openApi3.1" })
  const resolved = (schema: JsonSchema): JsonSchema => {
    if (!("$ref" in schema)) return schema
    const named = definitions[schema.$ref.replace("#/components/schemas/", "")]
    return named ? resolved(named) : schema
  }
  const parameters = (schema: DocSchema | undefined, where: "path" | "query") => {
    if (!schema) return []
    const object = resolved(toJson(schema))
    if (!("properties" in object)) throw new Error(`The ${where} parameters must be a Struct.`)
    return Object.entries(object.properties).map(([name, property]) => ({
      name,
      in: where,
      required: where === "path" || object.required.includes(name),
      schema: property,
    }))
  }
  const jsonContent = (schema: DocSchema) => ({ "application/json": { schema: toJson(schema) } })
  const errorResponse = (status: number) => ({
    description: ERROR_MEANING[status] ?? "An error.",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  })
  const operation = (doc: RouteDoc) => {
    const statuses = new Set<number>([
      ...(doc.params || doc.query || doc.body ? [400] : []),
      ...(doc.access === "public" ? [] : [401, 403]),
      ...(doc.errors ?? []),
      500,
      503,
    ])
    const access =
      doc.access === "public"
        ? "No sign-in needed."
        : `Needs the \`${doc.access}\` permission${doc.changes ? "; a cookie session also sends `x-csrf-token`" : ""}.`
    return {
      summary: doc.summary,
      description: [doc.description, access].filter(Boolean).join("\n\n"),
      tags: [doc.tag],
      ...(doc.access === "public" ? { security: [] } : {}),
      parameters: [...parameters(doc.params, "path"), ...parameters(doc.query, "query")],
      ...(doc.body ? { requestBody: { required: true, content: jsonContent(doc.body) } } : {}),
      responses: {
        ...Object.fromEntries(
          Object.entries(doc.responses).map(([status, response]) => [
            status,
            { description: response.description, ...(response.schema ? { content: jsonContent(response.schema) } : {}) },
          ]),
        ),
        ...Object.fromEntries([...statuses].sort((a, b) => a - b).map((status) => [String(status), errorResponse(status)])),
      },
    }
  }

  toJson(ErrorBody)
  const paths: Record<string, Record<string, ReturnType<typeof operation>>> = {}
  for (const route of routes) {
    const doc = routeDocOf(route.hooks?.detail)
    if (!doc) continue
    const path = openApiPath(route.path)
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(doc) }
  }
  return {
    openapi: "3.1.0",
    info,
    servers: [{ url: "/" }],
    // Every route needs a session unless it says `security: []`: a bearer token, or the page's cookie.
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      schemas: definitions,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "from POST /v1/auth/login" },
        session: { type: "apiKey", in: "cookie", name: "scopeline_session", description: "the pages' session cookie" },
      },
    },
  }
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>
