import { Schema } from "effect"
import { Elysia } from "elysia"
import { type AppRoute, type OpenApiDocument, openApiDocument } from "./openApi.ts"
import { html, json } from "./respond.ts"
import { documented } from "./RouteDoc.ts"

const asset = (specifier: string, contentType: string) => {
  const file = Bun.file(Bun.resolveSync(specifier, import.meta.dir))
  return () => new Response(file, { headers: { "content-type": contentType, "cache-control": "public, max-age=3600" } })
}

// Under /static/ so the assets keep their caching (securityHeaders.ts); Swagger UI comes from
// node_modules, as htmx does: the page works with no internet access.
const SWAGGER = "/static/swagger-ui"

// Written out, not rendered: nothing in it comes from a request, and it holds no inline script or style.
const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Scopeline API</title>
    <link rel="stylesheet" href="${SWAGGER}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${SWAGGER}/swagger-ui-bundle.js"></script>
    <script src="${SWAGGER}/docs.js"></script>
  </body>
</html>
`

/** The document's own description: what a newcomer to the API needs before the first call. */
const INFO = {
  title: "Scopeline API",
  version: "v1",
  description: [
    "Sign in with `POST /v1/auth/login` and send the `jwt` it returns as `Authorization: Bearer <jwt>`.",
    'Every error is `{"error":{"code","message","details"}}`; clients switch on `code`.',
  ].join("\n\n"),
}

/**
 * GET /v1/openapi.json, built from the `documented(...)` details of `routes()` (the whole app, read
 * when first asked, so it lists every plugin whatever their order), and the /docs page showing it.
 */
export const apiDocs = (routes: () => ReadonlyArray<AppRoute>) => {
  let document: OpenApiDocument | undefined
  return new Elysia({ name: "api.docs" })
    .get("/v1/openapi.json", () => json((document ??= openApiDocument(routes(), INFO))), {
      detail: documented({
        summary: "This document: the OpenAPI 3.1 description of the API",
        tag: "documentation",
        access: "public",
        responses: { 200: { description: "The OpenAPI document.", schema: Schema.Record({ key: Schema.String, value: Schema.Unknown }) } },
      }),
    })
    .get("/docs", () => html(DOCS_PAGE))
    .get(`${SWAGGER}/swagger-ui.css`, asset("swagger-ui-dist/swagger-ui.css", "text/css; charset=utf-8"))
    .get(`${SWAGGER}/swagger-ui-bundle.js`, asset("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript; charset=utf-8"))
    .get(`${SWAGGER}/docs.js`, asset("./docs.js", "text/javascript; charset=utf-8"))
}
