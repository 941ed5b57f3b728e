/**
 * Formula injection: a spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and some treat
 * a leading tab or carriage return the same way), so a description such as `=HYPERLINK(…)` from an
 * uploaded file would run on the accountant's machine. Such text is written with a leading `'`,
 * which spreadsheets read as "this is text". Plain numbers (`-12.5`) cannot be formulas and stay as
 * they are, so a negative quantity is still a number in the sheet.
 */
const FORMULA_START = /^[=+\-@\t\r]/
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/

export const guardText = (text: string): string => (FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text)

/** An exact decimal from a NUMERIC column: written digit for digit in CSV, as a number in XLSX. */
export interface DecimalCell {
  readonly decimal: string
}

/** A cell of an export: text (guarded when written), a whole number, an exact decimal, or empty. */
export type Cell = string | number | DecimalCell | null

export const decimalCell = (text: string | null): DecimalCell | null => (text === null ? null : { decimal: text })

/** The cell as CSV text: guarded text, numbers as their digits, empty for null. */
export const csvCell = (cell: Cell): string =>
  cell === null ? "" : typeof cell === "string" ? guardText(cell) : typeof cell === "number" ? String(cell) : cell.decimal

/** The cell as an XLSX value: guarded text, numbers as numbers (a spreadsheet holds doubles), null for empty. */
export const xlsxCell = (cell: Cell): string | number | null =>
  cell === null ? null : typeof cell === "string" ? guardText(cell) : typeof cell === "number" ? cell : Number(cell.decimal)
