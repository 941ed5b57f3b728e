import type { AxeResults, RunOptions } from "axe-core"
import { createRequire } from "node:module"
import { readFileSync } from "node:fs"
import { chromium, type Browser, type Page } from "playwright-core"

/** Debian's Chromium driven by playwright-core (no browser download: there is no internet). */
export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  })

/** Signs in through the login page as a person would and waits for the home page. */
export const signInPage = async (browser: Browser, baseUrl: string, email: string, password: string): Promise<Page> => {
  const page = await browser.newPage()
  await page.goto(`${baseUrl}/login`)
  await page.fill("input[name=login]", email)
  await page.fill("input[name=password]", password)
  await page.click("button[type=submit]")
  await page.waitForSelector("#announcement")
  return page
}

// axe-core from node_modules, evaluated into the page by the test driver: no network, and the
// page's CSP (no inline script) does not apply to what the driver evaluates.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8")

/** WCAG 2.1 levels A and AA: what every page must pass. */
export const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] as const

/**
 * The serious and critical WCAG 2.1 A/AA violations axe-core finds in the page as it is now (after
 * any htmx swap), one line each: rule, impact, and the elements at fault.
 */
export const axeViolations = async (page: Page): Promise<ReadonlyArray<string>> => {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE)
  const violations = await page.evaluate(async (tags) => {
    const { axe } = window as unknown as { axe: { run: (context: Document, options: RunOptions) => Promise<AxeResults> } }
    const results = await axe.run(document, { runOnly: { type: "tag", values: [...tags] }, resultTypes: ["violations"] })
    return results.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }))
  }, WCAG_21_AA)
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${new URL(page.url()).pathname}: ${v.id} (${v.impact}) ${v.help}: ${v.targets.slice(0, 5).join(", ")}`)
}

/**
 * Controls that the Tab key never reaches: presses Tab through the page until every control had
 * the focus (or clearly never will), and reports each visible link, button or field that never had the focus, or that shows no focus
 * indicator when it does.
 */
export const keyboardProblems = async (page: Page): Promise<ReadonlyArray<string>> => {
  const controls = await page.evaluate(() => {
    const selector = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea, [tabindex]"
    const visible = (el: Element) => el instanceof HTMLElement && el.offsetParent !== null && getComputedStyle(el).visibility !== "hidden"
    const all = [...document.querySelectorAll(selector)].filter(visible)
    all.forEach((el, i) => el.setAttribute("data-keyboard-probe", String(i)))
    return all.length
  })
  const reached = new Set<string>()
  const problems: string[] = []
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
  // Date and month fields take one Tab per part (day, month, year), so allow several per control.
  for (let press = 0; press < 3 * controls + 5 && reached.size < controls; press++) {
    await page.keyboard.press("Tab")
    const focused = await page.evaluate(() => {
      const el = document.activeElement
      if (!el || el === document.body) return null
      const style = getComputedStyle(el)
      // A date or month field highlights the part that has the focus, not its own outline.
      const parted = el instanceof HTMLInputElement && ["date", "month", "week", "time", "datetime-local"].includes(el.type)
      const indicated = parted || (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none"
      return { probe: el.getAttribute("data-keyboard-probe"), indicated, name: `${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim().slice(0, 30)}"` }
    })
    if (focused?.probe != null) {
      reached.add(focused.probe)
      if (!focused.indicated) problems.push(`${focused.name} shows no focus indicator`)
    }
  }
  const missed = await page.evaluate(
    (seen) =>
      [...document.querySelectorAll("[data-keyboard-probe]")]
        .filter((el) => !seen.includes(el.getAttribute("data-keyboard-probe") ?? ""))
        .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? el.getAttribute("name") ?? "").trim().slice(0, 30)}" is never reached by Tab`),
    [...reached],
  )
  // Anything htmx makes clickable must be a control a keyboard can operate; polling needs no one.
  const inert = await page.evaluate(() =>
    [...document.querySelectorAll("[hx-get], [hx-post], [hx-put], [hx-patch], [hx-delete]")]
      .filter((el) => !el.matches("a[href], button, form, input, select, textarea") && !/\b(every|load)\b/.test(el.getAttribute("hx-trigger") ?? ""))
      .map((el) => `${el.tagName.toLowerCase()}#${el.id} acts on a click but is no control`),
  )
  await page.evaluate(() => document.querySelectorAll("[data-keyboard-probe]").forEach((el) => el.removeAttribute("data-keyboard-probe")))
  return [...new Set([...problems, ...missed, ...inert])].map((p) => `${new URL(page.url()).pathname}: ${p}`)
}
