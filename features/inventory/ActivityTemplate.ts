/**
 * The activity file template: the columns the parser reads (features/uploads/parse/ActivityRow.ts)
 * and three rows a reader recognises. `site` takes a site code created beforehand, so the examples
 * leave it empty: the template must import as it is, in a tenant without sites.
 */
export const TEMPLATE_COLUMNS = [
  "description",
  "quantity",
  "unit",
  "date",
  "period_start",
  "period_end",
  "geography",
  "category",
  "reference",
  "site",
] as const

const rows: ReadonlyArray<Readonly<Record<(typeof TEMPLATE_COLUMNS)[number], string>>> = [
  {
    description: "Store electricity - main outlet",
    quantity: "41250",
    unit: "kWh",
    date: "2024-01-31",
    period_start: "2024-01-01",
    period_end: "2024-01-31",
    geography: "SG",
    category: "electricity",
    reference: "INV-2024-0113",
    site: "",
  },
  {
    description: "Diesel for delivery vans",
    quantity: "3120",
    unit: "litres",
    date: "2024-01-31",
    period_start: "2024-01-01",
    period_end: "2024-01-31",
    geography: "SG",
    category: "fleet",
    reference: "FUEL-0124",
    site: "",
  },
  {
    description: "Regional manager flights, economy",
    quantity: "18400",
    unit: "passenger.km",
    date: "2024-02-20",
    period_start: "",
    period_end: "",
    geography: "",
    category: "business travel",
    reference: "TRV-118",
    site: "",
  },
]

const cell = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value)

/** The template as CSV text (RFC 4180, CRLF line ends as spreadsheets write them). */
export const activityTemplateCsv = (): string =>
  [TEMPLATE_COLUMNS.join(","), ...rows.map((row) => TEMPLATE_COLUMNS.map((column) => cell(row[column])).join(","))]
    .map((line) => `${line}\r\n`)
    .join("")
