import { guard } from "./guard.ts"
import { can, type Permission } from "../Permissions.ts"
import { UsersRepo } from "../UsersRepo.ts"
import { isEnabled } from "../FeatureFlags.ts"
import type { Principal, User } from "../User.ts"
import type { NavItem } from "@scopeline/ui/Layout"
import { renderShell } from "@scopeline/ui/render"
import { Effect, Option } from "effect"
import { Unauthorized } from "@scopeline/ui/ApiError"

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
    const principal = yield* guard(request, permission)
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

/** A page in the shell, with the navigation and viewer of the signed-in account (if any). */
export const renderPage = (request: Request, options: PageOptions, content: JSX.Element): Promise<Response> =>
  renderShell(
    request,
    {
      title: options.title,
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.user ? { viewer: { name: displayName(options.user), email: options.user.email, role: options.user.role } } : {}),
      nav: options.principal ? navFor(options.principal) : [],
      themeSelector: options.principal ? isEnabled("dark_theme_selector", options.principal) : false,
    },
    content,
  )
