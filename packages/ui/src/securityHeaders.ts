/**
 * Headers every response carries, set in one place (the server's fetch handler), so no route can
 * forget them.
 *
 * The policy allows no inline script, no inline style attribute and no `eval`: the pages load
 * `/static/htmx.min.js` and `/static/app.js` only, and htmx 4 adds its indicator CSS through a
 * constructed stylesheet (`document.adoptedStyleSheets`), which CSP does not restrict. The pages use
 * no `hx-on:` attributes, the one htmx feature that would need `'unsafe-eval'`.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ")

/** Two years, the value preload lists ask for. */
const HSTS = "max-age=63072000; includeSubDomains"

/**
 * The path of a request without parsing its URL: Bun builds `request.url` from the Host header, so
 * `Host: a b` or `Host: 127.0.0.1:abc` gives a URL that `new URL` refuses, and this must still work.
 */
export const pathOf = (request: Request): string =>
  request.url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, "").split(/[?#]/, 1)[0] ?? ""

const isHttps = (request: Request) =>
  request.url.startsWith("https:") || request.headers.get("x-forwarded-proto") === "https"

/**
 * Adds the headers to `response` (a copy when its headers are read-only, as on a fetched response).
 * Static assets keep their own caching; everything else, the API and pages alike, may hold a
 * signed-in user's data, so no cache (browser or proxy) keeps a copy.
 */
export const withSecurityHeaders = (request: Request, response: Response): Response => {
  const headers: Record<string, string> = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
  }
  // Over plain HTTP the header would be ignored by browsers, and on localhost it would pin the
  // developer's machine to HTTPS, so it is sent only when the request arrived over HTTPS.
  if (isHttps(request)) headers["strict-transport-security"] = HSTS
  if (!pathOf(request).startsWith("/static/")) headers["cache-control"] = "no-store"
  try {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value)
    return response
  } catch {
    const copy = new Response(response.body, response)
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value)
    return copy
  }
}
