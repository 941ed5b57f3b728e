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
