import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser } from "playwright-core"
import { axeViolations, launchBrowser, signInPage } from "../support/browser.ts"
import { apiClient } from "../support/api.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let browser: Browser

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

describe("running the team from the admin page", () => {
  test("an admin invites a user; the user accepts through the link and signs in with the new role", async () => {
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.click("nav >> text=Team")
    await admin.waitForSelector("#invite-form")
    expect(await axeViolations(admin)).toEqual([])
    const email = `olu-${crypto.randomUUID().slice(0, 6)}@example.com`
    await admin.fill("#invite-form input[name=email]", email)
    await admin.fill("#invite-form input[name=firstname]", "Olu")
    await admin.selectOption("#invite-role", "viewer")
    await admin.click("#invite-form button[type=submit]")
    await admin.waitForSelector("#invitation-link")
    const link = await admin.inputValue("#invitation-link")
    expect(link).toStartWith(`${server.url}/invitations/accept?token=`)
    expect(await admin.textContent("#invitations")).toContain(email)

    // The invited person, in a browser of their own.
    const context = await browser.newContext()
    const invited = await context.newPage()
    await invited.goto(link)
    await invited.waitForSelector("#accept-form")
    expect(await invited.textContent("main")).toContain(email)
    expect(await invited.inputValue("input[name=firstname]")).toBe("Olu")
    expect(await axeViolations(invited)).toEqual([])
    // A weak password is refused on the page, with the rule.
    await invited.fill("input[name=password]", "password1234")
    await invited.click("#accept-form button[type=submit]")
    await invited.waitForSelector("#accept-error")
    expect(await invited.textContent("#accept-error")).toContain("too common")
    // So is a name longer than an account keeps, with what was typed and the field named.
    await invited.fill("input[name=lastname]", "L".repeat(150))
    await invited.fill("input[name=password]", "maple quartz river lamp")
    await invited.click("#accept-form button[type=submit]")
    await invited.waitForSelector("#accept-error")
    expect(await invited.textContent("#accept-error")).toContain("lastname")
    expect(await invited.inputValue("input[name=firstname]")).toBe("Olu")
    await invited.fill("input[name=lastname]", "Adeyemi")
    await invited.fill("input[name=password]", "maple quartz river lamp")
    await invited.click("#accept-form button[type=submit]")
    await invited.waitForSelector("#announcement")
    expect(await invited.textContent(".role")).toBe("viewer")
    await context.close()

    // Signing in afresh with the chosen password: the role is the invited one.
    const again = await signInPage(browser, server.url, email, "maple quartz river lamp")
    expect(await again.textContent(".role")).toBe("viewer")
    expect(await again.isVisible("nav >> text=Team")).toBe(false)
    await again.close()

    // The admin's page now lists them as a member, and the link no longer works.
    await admin.goto(`${server.url}/admin/users`)
    expect(await admin.textContent("#members")).toContain(email)
    const used = await browser.newPage()
    const response = await used.goto(link)
    expect(response?.status()).toBe(410)
    expect(await used.textContent("main")).toContain("already been used")
    await used.close()
    await admin.close()
  })

  test("an admin changes a role and deactivates an account from the page; the last admin is protected", async () => {
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.goto(`${server.url}/admin/users`)
    const row = 'tr[data-user="viewer@demo.scopeline.dev"]'
    await admin.selectOption(`${row} select[name=role]`, "accountant")
    await admin.click(`${row} button:has-text("Save role")`)
    await admin.waitForSelector("#team-notice .notice")
    expect(await admin.textContent("#team-notice")).toContain("viewer@demo.scopeline.dev is now accountant")
    await admin.click(`${row} button:has-text("Deactivate")`)
    await admin.waitForSelector(`${row} .status.failed`)
    expect(await admin.textContent(`${row}`)).toContain("deactivated")

    const self = 'tr[data-user="admin@demo.scopeline.dev"]'
    await admin.click(`${self} button:has-text("Deactivate")`)
    await admin.waitForSelector("#team-error")
    expect(await admin.textContent("#team-error")).toContain("last active admin")
    await admin.close()
  })

  test("deleting an account asks first: dismissed, nothing happens; confirmed, the account is gone", async () => {
    const api = await apiClient(server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    const email = `leaver-${crypto.randomUUID().slice(0, 6)}@example.com`
    const invited = (await (await api.post("/v1/admin/invitations", { email, role: "viewer" })).json()) as { invitation: { accept_url: string } }
    const token = new URL(invited.invitation.accept_url).searchParams.get("token")!
    const accepted = await fetch(`${server.url}/v1/invitations/accept`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token, password: "maple quartz river lamp" }),
    })
    expect(accepted.status).toBeLessThan(300)
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.goto(`${server.url}/admin/users`)
    const row = `tr[data-user="${email}"]`
    const asked: Array<string> = []
    admin.once("dialog", (dialog) => {
      asked.push(dialog.message())
      void dialog.dismiss()
    })
    await admin.click(`${row} button:has-text("Delete")`)
    await Bun.sleep(500)
    expect(asked).toEqual([expect.stringContaining(`Delete the account of ${email}?`)])
    expect(await admin.locator(row).count()).toBe(1)
    // Asked again on the next click (a dismissed question leaves the form free to send).
    admin.once("dialog", (dialog) => void dialog.accept())
    await admin.click(`${row} button:has-text("Delete")`)
    await admin.waitForSelector("#team-notice .notice")
    expect(await admin.locator(row).count()).toBe(0)
    await admin.close()
  })

  test("the audit log page names people by email, reads details as text, and filters by an action and a person chosen from lists", async () => {
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.click("nav >> text=Audit log")
    await admin.waitForSelector("table.audit-events")
    expect(await axeViolations(admin)).toEqual([])
    expect(await admin.locator('tr[data-action="role_changed"]').count()).toBeGreaterThanOrEqual(1)
    // People are named by email, and details read as text, not as JSON.
    const actors = await admin.locator("table.audit-events tbody tr td:nth-child(5)").allTextContents()
    expect(actors).toContain("admin@demo.scopeline.dev")
    for (const actor of actors) expect(actor).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/)
    for (const details of await admin.locator("table.audit-events td.details").allTextContents()) expect(details).not.toMatch(/[{}"]/)
    // Actions and actors are chosen from lists, not typed.
    await admin.selectOption("#audit-category", "security")
    await admin.selectOption("#audit-action", "user_deactivated")
    await admin.selectOption("#audit-actor", { label: "admin@demo.scopeline.dev" })
    await admin.click("#audit-filters button[type=submit]")
    await admin.waitForURL(/action=user_deactivated/)
    const rows = admin.locator("table.audit-events tbody tr")
    const actions = await rows.evaluateAll((all) => all.map((row) => row.getAttribute("data-action")))
    expect(actions.length).toBeGreaterThanOrEqual(1)
    expect(new Set(actions)).toEqual(new Set(["user_deactivated"]))
    expect(new Set(await admin.locator("table.audit-events tbody tr td:nth-child(5)").allTextContents())).toEqual(new Set(["admin@demo.scopeline.dev"]))
    // The choices stay chosen on the filtered page.
    expect(await admin.inputValue("#audit-action")).toBe("user_deactivated")
    expect(await admin.$eval("#audit-actor", (select) => (select as HTMLSelectElement).selectedOptions[0]?.textContent)).toBe("admin@demo.scopeline.dev")
    await admin.close()
  })

  test("a user sets their name, timezone and 12-hour time on the account page, and pages follow them", async () => {
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.click("header a.who")
    await admin.waitForSelector("#profile-form")
    expect(await axeViolations(admin)).toEqual([])
    await admin.fill("#profile-form input[name=firstname]", "Adaeze")
    await admin.selectOption("#timezone", "Asia/Singapore")
    await admin.selectOption("#time_format", "12")
    await admin.click("#profile-form button[type=submit]")
    await admin.waitForSelector("#account-notice .notice")
    expect(await admin.textContent("header .who")).toContain("Adaeze")
    await admin.goto(`${server.url}/admin/users`)
    const signedInAt = await admin.textContent('tr[data-user="admin@demo.scopeline.dev"] time')
    expect(signedInAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} (AM|PM) Asia\/Singapore$/)
    await admin.close()
  })
})

describe("a form's answer has its page's address, so a reload shows the page and sends nothing again", () => {
  test("after inviting, revoking and a refused invitation the address is /admin/users, and a reload is the team page", async () => {
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.goto(`${server.url}/admin/users`)
    const email = `reload-${crypto.randomUUID().slice(0, 6)}@example.com`
    await admin.fill("#invite-form input[name=email]", email)
    await admin.click("#invite-form button[type=submit]")
    await admin.waitForSelector("#invitation-link")
    expect(new URL(admin.url()).pathname).toBe("/admin/users")
    const reloaded = await admin.reload()
    expect(reloaded?.status()).toBe(200)
    await admin.waitForSelector("#invite-form")
    // The one-time link is not shown again, and the invitation was not sent twice.
    expect(await admin.isVisible("#invitation-link")).toBe(false)
    expect(((await admin.textContent("#invitations")) ?? "").split(email).length - 1).toBe(1)
    // Refused (already invited): the form and its error, still at the page's address.
    await admin.fill("#invite-form input[name=email]", email)
    await admin.click("#invite-form button[type=submit]")
    await admin.waitForSelector("#team-error")
    expect(new URL(admin.url()).pathname).toBe("/admin/users")
    await admin.click(`#invitations tr:has-text("${email}") button:has-text("Revoke")`)
    await admin.waitForSelector("#team-notice .notice")
    expect(new URL(admin.url()).pathname).toBe("/admin/users")
    expect((await admin.reload())?.status()).toBe(200)
    // Back goes to pages, never to a form's action.
    const back = await admin.goBack()
    expect(back === null || back.status() === 200).toBe(true)
    expect(new URL(admin.url()).pathname).toBe("/admin/users")
    await admin.close()
  })

  test("a refused password change (a full-page post) is shown at /account, and a reload is the account page", async () => {
    // The accountant: the viewer's account is deactivated by a test above.
    const viewer = await signInPage(browser, server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await viewer.goto(`${server.url}/account`)
    await viewer.fill("#password-form input[name=current_password]", "not the password at all")
    await viewer.fill("#password-form input[name=new_password]", "maple quartz river lamp")
    await viewer.click("#password-form button[type=submit]")
    await viewer.waitForSelector("#password-error")
    expect(new URL(viewer.url()).pathname).toBe("/account")
    const reloaded = await viewer.reload()
    expect(reloaded?.status()).toBe(200)
    await viewer.waitForSelector("#password-form")
    expect(await viewer.isVisible("#password-error")).toBe(false)
    await viewer.close()
  })

  test("an API key is limited to sites chosen by code and name; a refused one keeps what was typed and ticked, at /admin/integrations", async () => {
    const api = await apiClient(server.url, "admin@demo.scopeline.dev")
    const site = async (code: string, name: string) => {
      const created = await api.post("/v1/sites", { code, name, country: "GB", limit_period: "month" })
      expect(created.status).toBe(201)
      return ((await created.json()) as { site: { id: string } }).site.id
    }
    const stack = await site("BLR-1", "Boiler house")
    const pad = await site("PAD-7", "Well pad 7")
    const admin = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await admin.goto(`${server.url}/admin/integrations`)
    const offered = await admin.$$eval("#api-key-sites label", (labels) => labels.map((label) => label.textContent?.trim()))
    expect(offered).toEqual(expect.arrayContaining(["BLR-1 · Boiler house", "PAD-7 · Well pad 7"]))
    await admin.fill("#api-key-form input[name=name]", "Boiler stack CEMS")
    await admin.check(`#api-key-sites input[value="${stack}"]`)
    // A page left open while its site went away posts an id no site has.
    await admin.$eval(`#api-key-sites input[value="${pad}"]`, (box, gone) => {
      ;(box as HTMLInputElement).value = gone
      ;(box as HTMLInputElement).checked = true
    }, crypto.randomUUID())
    await admin.click("#api-key-form button[type=submit]")
    await admin.waitForSelector("#integrations-error")
    expect(await admin.textContent("#integrations-error")).toContain("No site has the id")
    expect(await admin.inputValue("#api-key-form input[name=name]")).toBe("Boiler stack CEMS")
    expect(await admin.isChecked(`#api-key-sites input[value="${stack}"]`)).toBe(true)
    expect(await admin.isChecked(`#api-key-sites input[value="${pad}"]`)).toBe(false)
    expect(new URL(admin.url()).pathname).toBe("/admin/integrations")
    expect((await admin.reload())?.status()).toBe(200)

    await admin.fill("#api-key-form input[name=name]", "Boiler stack CEMS")
    await admin.check(`#api-key-sites input[value="${stack}"]`)
    await admin.click("#api-key-form button[type=submit]")
    await admin.waitForSelector("#secret-value")
    const keys = (await (await api.get("/v1/admin/api-keys")).json()) as { api_keys: Array<{ name: string; site_ids: Array<string> | null }> }
    expect(keys.api_keys.find((key) => key.name === "Boiler stack CEMS")?.site_ids).toEqual([stack])
    // The list names the key's sites by code, as the form offered them.
    const row = admin.locator("tr", { hasText: "Boiler stack CEMS" })
    expect(await row.locator("td").nth(3).textContent()).toBe("BLR-1")
    await admin.close()
  })
})
