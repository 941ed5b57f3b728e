// Theme selection (shown when the dark_theme_selector flag is on), remembered per browser.
;(() => {
  const apply = (theme) => document.documentElement.setAttribute("data-theme", theme)
  apply(localStorage.getItem("scopeline-theme") || "light")
  document.addEventListener("change", (event) => {
    if (event.target && event.target.id === "theme-selector") {
      localStorage.setItem("scopeline-theme", event.target.value)
      apply(event.target.value)
    }
  })
  const sync = () => {
    const select = document.getElementById("theme-selector")
    if (select) select.value = localStorage.getItem("scopeline-theme") || "light"
  }
  document.addEventListener("DOMContentLoaded", sync)
  document.addEventListener("htmx:after:swap", sync)
})()

// Uploads: ask for a signed target, send the file straight to the store, then confirm. The file never
// passes through an API process, whatever its size.
;(() => {
  const csrfToken = () => {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers:inherited") || "{}")["x-csrf-token"] || ""
    } catch {
      return ""
    }
  }
  const errorText = async (response) => {
    try {
      const body = await response.json()
      return (body.error && body.error.message) || `The server answered ${response.status}.`
    } catch {
      return `The server answered ${response.status}.`
    }
  }
  const send = (target, file, onProgress) =>
    new Promise((resolve) => {
      const xhr = new XMLHttpRequest()
      xhr.open(target.method, target.url)
      let body = file
      if (target.method === "POST") {
        body = new FormData()
        for (const [key, value] of Object.entries(target.fields || {})) body.append(key, value)
        body.append("file", file)
      } else {
        for (const [key, value] of Object.entries(target.headers || {})) xhr.setRequestHeader(key, value)
      }
      xhr.upload.onprogress = (event) => event.lengthComputable && onProgress((100 * event.loaded) / event.total)
      xhr.onload = () => resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, text: xhr.responseText })
      xhr.onerror = () => resolve({ ok: false, status: 0, text: "" })
      xhr.send(body)
    })

  document.addEventListener("submit", async (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || form.id !== "upload-form") return
    event.preventDefault()
    const input = form.querySelector("#upload-file")
    const message = form.querySelector("#upload-message")
    const progress = form.querySelector("#upload-progress")
    const button = form.querySelector("button")
    const say = (text, isError) => {
      message.textContent = text
      message.className = isError ? "alert error" : ""
    }
    const file = input.files && input.files[0]
    if (!file) return say("Choose a CSV file first.", true)
    button.disabled = true
    try {
      say("Preparing the upload…")
      const prepared = await fetch(`/v1/upload/new?filename=${encodeURIComponent(file.name)}`, {
        headers: { "x-csrf-token": csrfToken() },
      })
      if (!prepared.ok) return say(await errorText(prepared), true)
      const target = await prepared.json()
      if (file.size > target.max_bytes) {
        return say(`The file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${(target.max_bytes / 1048576).toFixed(0)} MB.`, true)
      }
      progress.hidden = false
      say(`Uploading ${file.name}…`)
      const sent = await send(target, file, (percent) => (progress.value = percent))
      if (!sent.ok) {
        let text = `The upload failed (${sent.status || "network error"}).`
        try {
          text = JSON.parse(sent.text).error.message
        } catch {}
        return say(text, true)
      }
      const confirmed = await fetch("/v1/upload", {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": csrfToken() },
        body: JSON.stringify({ upload_id: target.upload_id }),
      })
      if (confirmed.status !== 204) return say(await errorText(confirmed), true)
      say("Uploaded. Opening its progress…")
      window.location.assign(`/uploads/${target.upload_id}`)
    } finally {
      button.disabled = false
    }
  })
})()

// A form is sent once: a second click while its answer is on its way would create a second API key
// (whose secret is then never shown), export, recalculation or site. Captured on the document, so
// this runs before htmx's own submit handling and can stop it.
;(() => {
  let pending = new WeakSet()
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target
      if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post" || form.id === "upload-form") return
      if (pending.has(form)) {
        event.preventDefault()
        event.stopImmediatePropagation()
        return
      }
      pending.add(form)
    },
    true,
  )
  // Free again once an answer came (htmx swaps the page, or shows the form again with its error), or
  // when the browser shows a page from its history (the back button after a full page post).
  document.addEventListener("htmx:finally:request", () => (pending = new WeakSet()))
  window.addEventListener("pageshow", () => (pending = new WeakSet()))
})()

// A form posted without htmx (the password and invitation forms) is answered with its page: the address
// bar then shows the form's action, which has no page, so a reload would be a 404 or send the form again.
// The answer names the page's own address and it replaces the action's in this history entry.
document.addEventListener("DOMContentLoaded", () => {
  const own = document.body.dataset.location
  if (own && own !== location.pathname + location.search) history.replaceState(null, "", own)
})
