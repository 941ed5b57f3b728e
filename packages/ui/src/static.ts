import { Elysia } from "elysia"

const asset = (specifier: string, contentType: string) => {
  const file = Bun.file(Bun.resolveSync(specifier, import.meta.dir))
  return () =>
    new Response(file, {
      headers: { "content-type": contentType, "cache-control": "public, max-age=3600" },
    })
}

/** htmx is served from node_modules: pages work with no internet access. */
export const staticAssets = new Elysia({ name: "static", prefix: "/static" })
  .get("/htmx.min.js", asset("htmx.org/dist/htmx.min.js", "text/javascript; charset=utf-8"))
  .get("/app.css", asset("./styles.css", "text/css; charset=utf-8"))
  .get("/app.js", asset("./app.js", "text/javascript; charset=utf-8"))
  .get("/favicon.svg", asset("./favicon.svg", "image/svg+xml"))
