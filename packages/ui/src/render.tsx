import { ErrorPage } from "./ErrorPage.tsx"
import { Layout, type NavItem, type Viewer } from "./Layout.tsx"
import { html } from "./respond.ts"
import { csrfToken } from "./session.ts"

/** What the page shell shows around the content: who is signed in and where they may go. */
export interface ShellOptions {
  readonly title: string
  readonly status?: number
  readonly viewer?: Viewer
  readonly nav?: ReadonlyArray<NavItem>
  readonly themeSelector?: boolean
  readonly headers?: Record<string, string>
  /**
   * Where this page is read with a GET, when a form's post (whose action has no page of its own)
   * answers with it: the browser's address becomes this, so a reload or Back asks for the page
   * instead of a 404 for the action, and never sends the form again.
   */
  readonly location?: string
}

/**
 * A full page inside the layout, or only the content when htmx asks for a part of the page
 * (`HX-Request-Type: partial`); boosted navigation asks for the full page and gets it.
 */
export const renderShell = async (request: Request, options: ShellOptions, content: JSX.Element): Promise<Response> => {
  const csrf = csrfToken(request)
  const headers: Record<string, string> = { vary: "HX-Request-Type", ...options.headers }
  if (csrf.setCookie) headers["set-cookie"] = csrf.setCookie
  const status = options.status ?? 200
  if (request.headers.get("hx-request-type") === "partial") return html(await content, status, headers)
  const location = request.method === "GET" ? undefined : options.location
  // htmx pushes a boosted form's action into history unless told which address its answer has.
  if (location !== undefined) headers["hx-push-url"] = location
  const body = await (
    <Layout
      title={options.title}
      csrfToken={csrf.token}
      path={new URL(request.url).pathname}
      viewer={options.viewer}
      nav={options.nav ?? []}
      themeSelector={options.themeSelector ?? false}
      location={location}
    >
      {content}
    </Layout>
  )
  return html(body, status, headers)
}

/** A readable error page: no navigation, since it may be shown to someone who is not signed in. */
export const errorPage = (request: Request, status: number, title: string, message: string, reference?: string) =>
  renderShell(request, { title, status }, <ErrorPage status={status} title={title} message={message} reference={reference} />)
