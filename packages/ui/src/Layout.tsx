import type { PropsWithChildren } from "@kitajs/html"

export interface NavItem {
  readonly href: string
  readonly label: string
  /** What a person does there, for the home page's cards. */
  readonly description: string
}

export interface Viewer {
  readonly name: string
  readonly email: string
  readonly role: string
}

export interface LayoutProps {
  readonly title: string
  readonly csrfToken: string
  readonly path: string
  readonly viewer?: Viewer
  readonly nav?: ReadonlyArray<NavItem>
  readonly themeSelector?: boolean
  /** The page's own address when it answers a full-page form post (app.js puts it in the address bar). */
  readonly location?: string
}

/** The page shell: every full page renders inside it; htmx requests for a part get the part only. */
export const Layout = (props: PropsWithChildren<LayoutProps>) => (
  <>
    {"<!doctype html>"}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title safe>{`${props.title} · Scopeline`}</title>
        <link rel="stylesheet" href="/static/app.css" />
        {/* Named, so browsers do not ask for /favicon.ico (a 404, and an error in every page's console). */}
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <script src="/static/htmx.min.js"></script>
        <script src="/static/app.js"></script>
      </head>
      <body
        hx-boost:inherited="true"
        hx-headers:inherited={JSON.stringify({ "x-csrf-token": props.csrfToken })}
        data-location={props.location}
      >
        {/* The first stop for the keyboard: past the navigation, straight to the page's own content. */}
        <a class="skip-link" href="#main" hx-boost="false">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            Scopeline
          </a>
          {!!props.viewer && (
            <nav aria-label="Main">
              {(props.nav ?? []).map((item) => (
                <a href={item.href} aria-current={isCurrent(props.path, item.href) ? "page" : undefined} safe>
                  {item.label}
                </a>
              ))}
            </nav>
          )}
          <div class="spacer"></div>
          {props.themeSelector && (
            <label class="theme">
              Theme{" "}
              <select id="theme-selector" aria-label="Theme">
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
          )}
          {!!props.viewer && (
            <form method="post" action="/logout" class="logout" hx-boost="false">
              <input type="hidden" name="_csrf" value={props.csrfToken} />
              <a class="who" href="/account" title={`Your account (${props.viewer.email})`} safe>
                {props.viewer.name}
              </a>
              <span class="role" safe>
                {props.viewer.role}
              </span>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <main id="main">{props.children}</main>
      </body>
    </html>
  </>
)

const isCurrent = (path: string, href: string) => (href === "/" ? path === "/" : path.startsWith(href))
