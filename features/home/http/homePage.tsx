import { signedIn } from "@scopeline/accounts"
import { can } from "@scopeline/accounts"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { isEnabled } from "@scopeline/accounts"
import { productTips } from "../HomeContent.ts"
import { HomePage } from "../views/HomePage.tsx"
import { Effect } from "effect"
import { Elysia } from "elysia"
import type { Responder } from "@scopeline/ui/respond"
import type { HomeServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { navFor, renderPage } from "@scopeline/accounts"

export const homePage = (respond: Responder<HomeServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.home" }).get("/", ({ request }) =>
    page(
      request,
      Effect.gen(function* () {
        const { principal, user } = yield* signedIn(request, "view")
        const config = yield* AppConfig
        const actions = navFor(principal).filter((item) => item.href !== "/")
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
