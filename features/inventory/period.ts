/** A calendar date as YYYY-MM-DD. */
export type Day = string

/**
 * The date of (year, month index, day), normalised as JavaScript does (day 0 is the last day of the
 * month before); null past the year 9999, which YYYY-MM-DD cannot write.
 * `setUTCFullYear`, not `Date.UTC`, which reads the years 0–99 as 1900–1999.
 */
const utcDay = (year: number, monthIndex: number, day: number): Day | null => {
  const date = new Date(0)
  date.setUTCFullYear(year, monthIndex, day)
  const y = date.getUTCFullYear()
  if (y < 0 || y > 9999) return null
  return `${String(y).padStart(4, "0")}-${String(date.getUTCMonth() + 1).padStart(2, "0")}-${String(date.getUTCDate()).padStart(2, "0")}`
}
const parts = (day: Day) => day.split("-").map(Number) as [number, number, number]

const addDays = (day: Day, days: number): Day | null => {
  const [year, month, date] = parts(day)
  return utcDay(year, month - 1, date + days)
}
const monthStart = (day: Day): Day => `${day.slice(0, 7)}-01`
const nextMonthStart = (day: Day): Day | null => {
  const [year, month] = parts(day)
  return utcDay(year, month, 1)
}

/** The last day of the month of `day` (any day of it, or YYYY-MM). */
export const monthEnd = (day: Day): Day => {
  const [year, month] = parts(day)
  return utcDay(year, month, 0)!
}

/**
 * A period (dates inclusive, either end open) as the whole months the cells hold, `from` ≤ month <
 * `until` (null: open), and the days at its edges that start or end inside a month, to be read from
 * the activities. A period of whole months has no edge days.
 */
export const splitPeriod = (from: Day | null, to: Day | null) => {
  const edges: Array<{ readonly from: Day; readonly to: Day }> = []
  // The day after the period; null when it ends on 9999-12-31, after which no date exists.
  const afterTo = to === null ? null : addDays(to, 1)
  const lowerInside = from !== null && !from.endsWith("-01")
  const upperInside = to !== null && afterTo !== null && !afterTo.endsWith("-01")
  if (lowerInside && upperInside && from.slice(0, 7) === to.slice(0, 7)) edges.push({ from, to })
  else {
    if (lowerInside) edges.push({ from, to: to !== null && to < monthEnd(from) ? to : monthEnd(from) })
    if (upperInside) edges.push({ from: from !== null && from > monthStart(to) ? from : monthStart(to), to })
  }
  // The first whole month: none when the period starts inside the last month there is.
  const first = from === null ? null : lowerInside ? nextMonthStart(from) : from
  if (from !== null && first === null) return { months: null, edges }
  const months = { from: first, until: to === null ? null : upperInside ? monthStart(to) : afterTo }
  const anyMonth = months.from === null || months.until === null || months.from < months.until
  return { months: anyMonth ? months : null, edges }
}
