const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> => typeof value === "object" && value !== null && !Array.isArray(value)

/** A nested part in brackets, so that its commas do not read as the outer list's. */
const part = (value: unknown) => (isRecord(value) || (Array.isArray(value) && value.length > 1) ? `(${detailText(value)})` : detailText(value))

/** A detail's value as a sentence reads it: `failed 1, calculated 7`, not `{"failed":1,"calculated":7}`. */
export const detailText = (value: unknown): string => {
  if (value === null || value === undefined) return "none"
  if (typeof value === "string") return value
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(part).join(", ")
  if (isRecord(value)) {
    const entries = Object.entries(value)
    return entries.length === 0 ? "none" : entries.map(([name, inner]) => `${name} ${part(inner)}`).join(", ")
  }
  return String(value)
}
