/** Reading the product's pages as a person sees them: every page reachable by links, as text. */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " }

/** The text a person reads: markup, scripts and attribute values (like `<time datetime>`) removed. */
export const visibleText = (html: string): string =>
  html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) =>
      name.startsWith("#x") ? String.fromCodePoint(parseInt(name.slice(2), 16)) : name.startsWith("#") ? String.fromCodePoint(Number(name.slice(1))) : (ENTITIES[name.toLowerCase()] ?? entity),
    )
    .replace(/\s+/g, " ")

// A numeral on its own (not a piece of an id such as a UUID's "3e4", or its "9635643e-8808" that
// reads as an exponent until the id's next hyphen), with grouping and an exponent.
const NUMERAL = /(?<![\w.,-])-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w-])/g

const significantDigits = (plain: string) => plain.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length

/**
 * Numbers printed with floating-point noise: more digits than the shortest form of their double
 * (`0.059130000000000002`), arithmetic residue (`16500.000000000004`, `0.30000000000000004`,
 * `2.9999999999`), or an exponent no person writes in a table (`1e-7`).
 */
export const noisyNumbers = (text: string): ReadonlyArray<string> => {
  const noisy: string[] = []
  for (const [token] of text.matchAll(NUMERAL)) {
    const plain = token.replaceAll(",", "")
    if (/[eE]/.test(plain)) noisy.push(token)
    else if (/\.\d*?(?:0{6,}|9{6,})\d{0,3}$/.test(plain)) noisy.push(token)
    else if (significantDigits(plain) >= 16 && significantDigits(String(Number(plain))) < significantDigits(plain)) noisy.push(token)
  }
  return noisy
}

const SKIP = /^\/(static|v1|logout|healthz|readyz)\b/

/**
 * Every page on the site reachable by links from `start`, fetched with `cookie` (a signed-in
 * session): the HTML of each, by path and query (answers that are not HTML are left out). Pages are fetched `concurrency` at a time.
 */
export const crawl = async (
  baseUrl: string,
  cookie: string,
  options: {
    readonly start?: ReadonlyArray<string>
    readonly concurrency?: number
    /** Follow one link of each `pageKind` only: enough to see every template once. */
    readonly onePerKind?: boolean
  } = {},
): Promise<Map<string, { readonly status: number; readonly html: string }>> => {
  const pages = new Map<string, { readonly status: number; readonly html: string }>()
  const queued = new Set<string>(options.start ?? ["/"])
  const kinds = new Set([...queued].map(pageKind))
  const queue = [...queued]
  const visit = async (path: string) => {
    const response = await fetchRetrying(new URL(path, baseUrl), cookie)
    // A page that could not be fetched at all is a finding of its own (status 0), never a silent gap.
    if (response instanceof Error) return void pages.set(path, { status: 0, html: response.message })
    // A link that answers with a redirect (a page that moved, a session that ended) is kept, so a test sees it.
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      return void pages.set(path, { status: response.status, html: response.headers.get("location") ?? "" })
    }
    // Downloads (CSV exports and the like) are data for programs, exact like the API: not pages.
    if (!(response.headers.get("content-type") ?? "").startsWith("text/html")) return void (await response.body?.cancel())
    const html = await response.text()
    pages.set(path, { status: response.status, html })
    for (const [, raw] of html.matchAll(/\bhref="([^"]*)"/g)) {
      const href = raw!.replaceAll("&amp;", "&")
      if (!href.startsWith("/") || href.startsWith("//")) continue
      const url = new URL(href, baseUrl)
      const next = url.pathname + url.search
      if (SKIP.test(url.pathname) || queued.has(next) || (options.onePerKind && kinds.has(pageKind(next)))) continue
      queued.add(next)
      kinds.add(pageKind(next))
      queue.push(next)
    }
  }
  const worker = async () => {
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) await visit(path)
  }
  // Workers drain the queue while visits add to it; run rounds until no visit found anything new.
  while (queue.length > 0) await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker))
  return pages
}

/**
 * A GET as the crawler makes it. A connection the client's pool had kept open can be closed by the
 * server between two requests; such a transport error is retried (the page is still checked),
 * while any answer the server did give, 5xx included, is returned as it is.
 */
const fetchRetrying = async (url: URL, cookie: string, attempts = 3): Promise<Response | Error> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { headers: { cookie }, redirect: "manual" })
    } catch (error) {
      if (attempt >= attempts) return new Error(`GET ${url.pathname}${url.search} failed ${attempts} times: ${String(error)}`)
      await Bun.sleep(50 * attempt)
    }
  }
}

/** One representative of each kind of page: ids in the path and query values do not make a new kind. */
export const pageKind = (path: string): string => {
  const url = new URL(path, "http://x")
  const segments = url.pathname.split("/").map((s) => (/^[0-9a-f-]{36}$|^\d+$/i.test(s) ? ":id" : s))
  const keys = [...new Set(url.searchParams.keys())].sort()
  return segments.join("/") + (keys.length ? `?${keys.join("&")}` : "")
}
