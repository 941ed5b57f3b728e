import { scope3CategoryName } from "@scopeline/catalogue"
import type { InventoryReport } from "./Inventory.ts"
import type { ExportActivity } from "./ExportsRepo.ts"
import { type Cell, decimalCell } from "./spreadsheetCell.ts"

/** The activity export's columns, in order; the file's own extra columns follow them. */
export const ACTIVITY_COLUMNS = [
  "id",
  "upload_id",
  "row",
  "description",
  "quantity",
  "unit",
  "date",
  "geography",
  "scope",
  "scope3_category",
  "category",
  "factor_ref",
  "factor_name",
  "factor_value",
  "factor_unit",
  "source",
  "year",
  "licence",
  "kg_co2e",
  "co2_kg_co2e",
  "ch4_kg_co2e",
  "n2o_kg_co2e",
  "other_kg_co2e",
  "match_source",
  "confidence",
  "review_status",
  "status",
  "failure_reason",
] as const

/** An extra column is prefixed so that a file column named like one of ours can never be mistaken for it. */
export const extraHeader = (key: string) => `extra:${key}`

export const activityCells = (a: ExportActivity, extraKeys: ReadonlyArray<string>): ReadonlyArray<Cell> => {
  // Parsed as is, not rebuilt by a decoder: a file column named "__proto__" stays an own key (see ActivitiesQuery.ts).
  const extra: Readonly<Record<string, unknown>> = a.extra === null ? {} : (JSON.parse(a.extra) as Record<string, unknown>)
  return [
    a.id,
    a.uploadId,
    a.rowNumber,
    a.description,
    decimalCell(a.quantity),
    a.unit,
    a.date,
    a.geography,
    a.scope,
    a.scope3Category === null ? null : `${a.scope3Category} ${scope3CategoryName(a.scope3Category)}`,
    a.category,
    a.factorRef,
    a.factorName,
    decimalCell(a.factorValue),
    a.factorUnit,
    a.source,
    a.year,
    a.licence,
    decimalCell(a.emissions),
    decimalCell(a.co2),
    decimalCell(a.ch4),
    decimalCell(a.n2o),
    decimalCell(a.other),
    a.matchSource,
    decimalCell(a.confidence),
    a.reviewStatus,
    a.status,
    a.failureReason,
    ...extraKeys.map((key) => {
      const value = Object.hasOwn(extra, key) ? extra[key] : undefined
      return value === undefined || value === null ? null : typeof value === "string" ? value : JSON.stringify(value)
    }),
  ]
}

export const INVENTORY_COLUMNS = ["section", "key", "label", "kg_co2e"] as const

const kgCell = (kg: number): Cell => ({ decimal: kg.toFixed(3) })

/** The inventory as rows a spreadsheet sums: one line per figure of the report, section by section. */
export const inventoryCells = (r: InventoryReport): ReadonlyArray<ReadonlyArray<Cell>> => [
  ["period", "from", r.period.from ?? "", null],
  ["period", "to", r.period.to ?? "", null],
  ["total", "total", `Total (${r.unit}; scope 2 ${r.scope_2_method})`, kgCell(r.total)],
  ...Object.entries(r.by_scope).map(([scope, kg]): ReadonlyArray<Cell> => ["scope", scope, scope === "unassigned" ? "No scope" : `Scope ${scope}`, kgCell(kg)]),
  ...r.scope3_by_category.map((line): ReadonlyArray<Cell> => ["scope3_category", line.category === null ? "" : String(line.category), line.name, kgCell(line.kg_co2e)]),
  ...r.by_category.map((line): ReadonlyArray<Cell> => ["category", line.category, line.category, kgCell(line.kg_co2e)]),
  ...r.by_month.flatMap((month): ReadonlyArray<ReadonlyArray<Cell>> => [
    ["month", month.month ?? "undated", month.month ?? "undated", kgCell(month.kg_co2e)],
    ...Object.entries(month.by_scope).map(([scope, kg]): ReadonlyArray<Cell> => [`month_scope`, `${month.month ?? "undated"}/${scope}`, `Scope ${scope}`, kgCell(kg)]),
  ]),
  ...Object.entries(r.by_gas).map(([gas, kg]): ReadonlyArray<Cell> => ["gas", gas, gas.toUpperCase(), kgCell(kg)]),
  ["coverage", "activities", "Activities", r.coverage.activities],
  ["coverage", "calculated", "Calculated", r.coverage.calculated],
  ["coverage", "failed", "Failed", r.coverage.failed],
  ["coverage", "pending", "Pending", r.coverage.pending],
]
