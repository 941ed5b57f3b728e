import { guard } from "./guard.ts"
import { can, type Permission } from "../Permissions.ts"
import { UsersRepo } from "../UsersRepo.ts"
import { isEnabled } from "../FeatureFlags.ts"
import { checkedAccountOf } from "../Authentication.ts"
import type { Principal, User } from "../User.ts"
import type { NavItem } from "@scopeline/ui/Layout"
import { renderShell } from "@scopeline/ui/render"
import type { ReaderPreferences } from "@scopeline/ui/format"
import { Effect, Option } from "effect"
import { Unauthorized } from "@scopeline/ui/ApiError"

/** Navigation, declared once; each entry shows only to roles holding its permission. */
const navigation: ReadonlyArray<NavItem & { readonly permission: Permission }> = [
  { href: "/", label: "Home", permission: "view", description: "Where to start." },
  { href: "/dashboard", label: "Dashboard", permission: "view", description: "The inventory by scope, category, month, gas and site." },
  { href: "/uploads", label: "Uploads", permission: "view", description: "Activity files: upload one, follow it, read its row errors." },
  { href: "/activities", label: "Activities", permission: "view", description: "Every activity with its emissions and the factor they came from." },
  { href: "/review", label: "Review", permission: "view", description: "Matches the matcher was unsure of, largest emissions first." },
  { href: "/catalogue", label: "Catalogue", permission: "view", description: "The emission factors, their sets, sources and licences." },
  { href: "/recalculations", label: "Recalculations", permission: "view", description: "Restate the inventory on another factor set, or preview it." },
  { href: "/exports", label: "Exports", permission: "view", description: "The inventory and activities as CSV or XLSX files." },
  { href: "/sites", label: "Sites", permission: "view", description: "Each site's total against its limit, and its measurements." },
  { href: "/ops", label: "Operations", permission: "operate", description: "Queues, dead letters and webhook deliveries." },
  { href: "/admin/users", label: "Team", permission: "administer", description: "Invite people, change roles, deactivate accounts." },
  { href: "/admin/audit", label: "Audit log", permission: "administer", description: "Every security and data event, who and when." },
  { href: "/admin/integrations", label: "Integrations", permission: "administer", description: "API keys for devices and webhooks for alerts." },
]

export const navFor = (principal: Principal): ReadonlyArray<NavItem> =>
  navigation.filter((item) => can(principal.role, item.permission))

export const displayName = (user: User) =>
  [user.firstName, user.lastName].filter((part) => part !== null && part !== "").join(" ") || user.email

/**
 * The signed-in user's record: the one the guard checked the token against in this request (loaded
 * once per request), or, for a principal from elsewhere, read now. A deleted account ends the session.
 */
export const currentUser = (principal: Principal) => {
  const checked = checkedAccountOf(principal)
  return checked !== undefined
    ? Effect.succeed(checked)
    : UsersRepo.pipe(
        Effect.flatMap((users) => users.findById(principal.userId)),
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new Unauthorized({ message: "This account no longer exists." })),
            onSome: Effect.succeed,
          }),
        ),
      )
}

/** How this reader wants dates and times shown (see `@scopeline/ui/format`). */
export const readerOf = (user: User): ReaderPreferences => ({ timezone: user.timezone, timeFormat: user.timeFormat })

/** The caller of a page: signed in, holding `permission`, with their account as it is now. */
export const signedIn = (request: Request, permission: Permission) =>
  Effect.gen(function* () {
    const principal = yield* guard(request, permission)
    const user = yield* currentUser(principal)
    return { principal, user, reader: readerOf(user) }
  })

export interface PageOptions {
  readonly title: string
  readonly status?: number
  readonly principal?: Principal
  readonly user?: User
  readonly headers?: Record<string, string>
  /** The page's GET address, for a page that also answers a form's post (see ShellOptions). */
  readonly location?: string
}

/** A page in the shell, with the navigation and viewer of the signed-in account (if any). */
export const renderPage = (request: Request, options: PageOptions, content: JSX.Element): Promise<Response> =>
  renderShell(
    request,
    {
      title: options.title,
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.location === undefined ? {} : { location: options.location }),
      ...(options.user ? { viewer: { name: displayName(options.user), email: options.user.email, role: options.user.role } } : {}),
      nav: options.principal ? navFor(options.principal) : [],
      themeSelector: options.principal ? isEnabled("dark_theme_selector", options.principal) : false,
    },
    content,
  )
