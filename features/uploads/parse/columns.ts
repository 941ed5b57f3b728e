/** The columns an activity file may have; everything else is kept verbatim as extra data. */
export const REQUIRED_COLUMNS = ["description", "quantity", "unit", "date"] as const
export const OPTIONAL_COLUMNS = ["category", "geography", "period_start", "period_end", "reference", "site"] as const
export type KnownColumn = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number]

const KNOWN = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS])

/** "Period Start", " period-start " and "PERIOD_START" all name the same column. */
export const normaliseHeader = (header: string): string =>
  header.replace(/^\uFEFF/, "").trim().toLowerCase().replace(/[\s\-.]+/g, "_")

export interface ColumnMap {
  /** Index of each known column in the file, when present. */
  readonly known: Partial<Record<KnownColumn, number>>
  /** Unknown columns: index and the header as the user wrote it. */
  readonly extra: ReadonlyArray<{ readonly index: number; readonly header: string }>
  readonly width: number
}

export type HeaderProblem =
  | { readonly _tag: "MissingColumns"; readonly missing: ReadonlyArray<string>; readonly found: ReadonlyArray<string> }
  | { readonly _tag: "DuplicateColumn"; readonly column: string }

export const mapColumns = (headers: ReadonlyArray<string>): ColumnMap | HeaderProblem => {
  const known: Partial<Record<KnownColumn, number>> = {}
  const extra: Array<{ index: number; header: string }> = []
  const seen = new Set<string>()
  for (const [index, raw] of headers.entries()) {
    const name = normaliseHeader(raw)
    if (name === "") {
      extra.push({ index, header: `column_${index + 1}` })
      continue
    }
    if (seen.has(name)) return { _tag: "DuplicateColumn", column: raw.trim() }
    seen.add(name)
    if (KNOWN.has(name)) known[name as KnownColumn] = index
    else extra.push({ index, header: raw.trim() })
  }
  const missing = REQUIRED_COLUMNS.filter((column) => known[column] === undefined)
  if (missing.length > 0) return { _tag: "MissingColumns", missing, found: headers.map((h) => h.trim()) }
  return { known, extra, width: headers.length }
}
