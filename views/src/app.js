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
