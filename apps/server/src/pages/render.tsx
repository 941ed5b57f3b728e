import { can, type Permission, requirePermission } from "@scopeline/auth/Permissions"
import { UsersRepo } from "@scopeline/db/UsersRepo"
import { isEnabled } from "@scopeline/domain/FeatureFlags"
import type { Principal, User } from "@scopeline/domain/User"
import { Layout, type NavItem } from "@scopeline/views/Layout"
import { ErrorPage } from "@scopeline/views/ErrorPage"
import { Effect, Option } from "effect"
import { Unauthorized } from "@scopeline/domain/ApiError"
import { html } from "../http/respond.ts"
import { authenticate, csrfToken } from "../http/session.ts"

/** Navigation, declared once; each entry shows only to roles holding its permission. */
const navigation: ReadonlyArray<NavItem & { readonly permission: Permission }> = [
  { href: "/", label: "Home", permission: "view" },
  { href: "/uploads", label: "Uploads", permission: "view" },
  { href: "/activities", label: "Activities", permission: "view" },
  { href: "/catalogue", label: "Catalogue", permission: "view" },
  { href: "/ops", label: "Operations", permission: "operate" },
]

export const navFor = (principal: Principal): ReadonlyArray<NavItem> =>
  navigation.filter((item) => can(principal.role, item.permission))

export const displayName = (user: User) =>
  [user.firstName, user.lastName].filter((part) => part !== null && part !== "").join(" ") || user.email

/** The signed-in user's record; a token for a deleted account ends the session. */
export const currentUser = (principal: Principal) =>
  UsersRepo.pipe(
    Effect.flatMap((users) => users.findById(principal.userId)),
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.fail(new Unauthorized({ message: "This account no longer exists." })),
        onSome: Effect.succeed,
      }),
    ),
  )

/** The caller of a page: signed in, holding `permission`, with their account as it is now. */
export const signedIn = (request: Request, permission: Permission) =>
  Effect.gen(function* () {
    const principal = yield* authenticate(request)
    yield* requirePermission(principal, permission)
    const user = yield* currentUser(principal)
    return { principal, user }
  })

export interface PageOptions {
  readonly title: string
  readonly status?: number
  readonly principal?: Principal
  readonly user?: User
  readonly headers?: Record<string, string>
}

/**
 * A full page inside the layout, or only the content when htmx asks for a part of the page
 * (`HX-Request-Type: partial`); boosted navigation asks for the full page and gets it.
 */
export const renderPage = async (request: Request, options: PageOptions, content: JSX.Element): Promise<Response> => {
  const csrf = csrfToken(request)
  const headers: Record<string, string> = { vary: "HX-Request-Type", ...options.headers }
  if (csrf.setCookie) headers["set-cookie"] = csrf.setCookie
  const status = options.status ?? 200
  if (request.headers.get("hx-request-type") === "partial") return html(await content, status, headers)
  const body = await (
    <Layout
      title={options.title}
      csrfToken={csrf.token}
      path={new URL(request.url).pathname}
      viewer={
        options.user && {
          name: displayName(options.user),
          email: options.user.email,
          role: options.user.role,
        }
      }
      nav={options.principal ? navFor(options.principal) : []}
      themeSelector={options.principal ? isEnabled("dark_theme_selector", options.principal) : false}
    >
      {content}
    </Layout>
  )
  return html(body, status, headers)
}

export const errorPage = (request: Request, status: number, title: string, message: string, reference?: string) =>
  renderPage(request, { title, status }, <ErrorPage status={status} title={title} message={message} reference={reference} />)
