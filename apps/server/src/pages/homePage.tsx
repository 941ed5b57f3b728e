import { can } from "@scopeline/auth/Permissions"
import { AppConfig } from "@scopeline/config/AppConfig"
import { isEnabled } from "@scopeline/domain/FeatureFlags"
import { productTips } from "@scopeline/domain/HomeContent"
import { HomePage } from "@scopeline/views/HomePage"
import { Effect } from "effect"
import { Elysia } from "elysia"
import type { Responder } from "../http/respond.ts"
import { authenticate } from "../http/session.ts"
import type { ServerServices } from "../ServerServices.ts"
import { pageResponder } from "./pageResponder.ts"
import { currentUser, navFor, renderPage } from "./render.tsx"

export const homePage = (respond: Responder<ServerServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.home" }).get("/", ({ request }) =>
    page(
      request,
      Effect.gen(function* () {
        const principal = yield* authenticate(request)
        const user = yield* currentUser(principal)
        const config = yield* AppConfig
        const actions = navFor(principal)
          .filter((item) => item.href !== "/")
          .map((item) => ({ ...item, description: "" }))
        const tips = isEnabled("product_tips", principal) ? productTips(config.helpUrl) : []
        return yield* Effect.promise(() =>
          renderPage(
            request,
            { title: "Home", principal, user },
            <HomePage
              firstName={user.firstName ?? user.email}
              announcement={config.announcement}
              tips={tips}
              actions={can(principal.role, "view") ? actions : []}
            />,
          ),
        )
      }),
    ),
  )
}
