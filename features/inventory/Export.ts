import { ActivityStatus, UploadId } from "@scopeline/uploads"
import { ReviewStatusSchema } from "@scopeline/matching"
import { Schema } from "effect"
import { CalendarDate } from "./Inventory.ts"

export const ExportId = Schema.UUID.pipe(Schema.brand("ExportId"))
export type ExportId = typeof ExportId.Type

export const ExportFormat = Schema.Literal("csv", "xlsx")
export type ExportFormat = typeof ExportFormat.Type
export const ExportKind = Schema.Literal("activities", "inventory")
export type ExportKind = typeof ExportKind.Type
export const ExportStatus = Schema.Literal("queued", "running", "ready", "failed")
export type ExportStatus = typeof ExportStatus.Type

/** Which activities an export covers (dates inclusive, on the activity's date). */
export const ExportFilters = Schema.Struct({
  upload_id: Schema.optional(UploadId),
  status: Schema.optional(ActivityStatus),
  review_status: Schema.optional(ReviewStatusSchema),
  from: Schema.optional(CalendarDate),
  to: Schema.optional(CalendarDate),
})
export type ExportFilters = typeof ExportFilters.Type

/** A requested period's ends in order (`from` and `to` are YYYY-MM-DD, so their text sorts as their days). */
export const periodInOrder = (filters: { readonly from?: string | undefined; readonly to?: string | undefined }) =>
  filters.from === undefined || filters.to === undefined || filters.from <= filters.to ||
  { path: ["to"], message: "is before from: the period ends before it starts" }

/** POST /v1/exports: the body, and the Export button's form (the same fields, flattened). */
export const ExportRequestBody = Schema.Struct({
  format: ExportFormat,
  kind: ExportKind,
  // Checked on request only: an export already stored is read back whatever it asked for.
  filters: Schema.optionalWith(ExportFilters.pipe(Schema.filter(periodInOrder)), { default: () => ({}) }),
})
export type ExportRequestBody = typeof ExportRequestBody.Type

/** One export job as stored. */
export class ExportRow extends Schema.Class<ExportRow>("ExportRow")({
  id: ExportId,
  requestedBy: Schema.String,
  format: ExportFormat,
  kind: ExportKind,
  // JSON text: the client's snake→camel transform must not rename the filters' own keys.
  filters: Schema.parseJson(ExportFilters),
  status: ExportStatus,
  rowsWritten: Schema.NumberFromString,
  totalRows: Schema.NullOr(Schema.NumberFromString),
  blobKey: Schema.NullOr(Schema.String),
  sizeBytes: Schema.NullOr(Schema.NumberFromString),
  failureReason: Schema.NullOr(Schema.String),
  attempts: Schema.Int,
  createdAt: Schema.DateFromSelf,
  finishedAt: Schema.NullOr(Schema.DateFromSelf),
}) {}

/** The `export` queue's message: decoded on receipt, so a malformed message is refused, not guessed at. */
export class ExportJob extends Schema.Class<ExportJob>("ExportJob")({
  _tag: Schema.tag("ExportJob"),
  exportId: Schema.UUID,
  correlationId: Schema.String,
}) {}

export const encodeExportJob = (job: ExportJob): string => JSON.stringify(Schema.encodeSync(ExportJob)(job))

/** The name the file downloads as: what it is and when it was asked for. */
export const exportFilename = (row: ExportRow): string =>
  `scopeline-${row.kind}-${row.createdAt.toISOString().slice(0, 10)}-${row.id.slice(0, 8)}.${row.format}`

export const EXPORT_CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  csv: "text/csv; charset=utf-8",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

/** How long a download link works: long enough to click, short enough that a leaked link soon dies. */
export const DOWNLOAD_URL_SECONDS = 15 * 60
