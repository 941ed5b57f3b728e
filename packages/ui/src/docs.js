// The /docs page's only script of its own: a file, not an inline <script>, so the page runs under
// the same Content-Security-Policy as every other page (packages/ui/src/securityHeaders.ts).
window.addEventListener("load", () => {
  window.SwaggerUIBundle({
    url: "/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // Swagger UI would otherwise ask a public validator on the internet about the document.
    validatorUrl: null,
  })
})
