import { Schema } from "effect"
import { UserId } from "@scopeline/accounts"

export const UploadId = Schema.UUID.pipe(Schema.brand("UploadId"))
export type UploadId = typeof UploadId.Type

export const UploadStatus = Schema.Literal("pending_upload", "uploaded", "parsing", "parsed", "failed")
export type UploadStatus = typeof UploadStatus.Type

export const isSettled = (status: UploadStatus) => status === "parsed" || status === "failed"

/** One problem in an uploaded file, located as a spreadsheet user counts rows (header = row 1). */
export class RowError extends Schema.Class<RowError>("RowError")({
  row: Schema.NullOr(Schema.Int),
  column: Schema.NullOr(Schema.String),
  value: Schema.NullOr(Schema.String),
  message: Schema.String,
}) {}

export class Upload extends Schema.Class<Upload>("Upload")({
  id: UploadId,
  accountant: UserId,
  s3ObjectUrl: Schema.String,
  status: UploadStatus,
  failureReason: Schema.NullOr(Schema.String),
  originalFilename: Schema.NullOr(Schema.String),
  maxBytes: Schema.NumberFromString,
  sizeBytes: Schema.NullOr(Schema.NumberFromString),
  rowCount: Schema.NullOr(Schema.Int),
  errorCount: Schema.NullOr(Schema.Int),
  rowErrors: Schema.NullOr(Schema.Array(RowError)),
  parseAttempts: Schema.Int,
  correlationId: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf,
  uploadedAt: Schema.NullOr(Schema.DateFromSelf),
  parsedAt: Schema.NullOr(Schema.DateFromSelf),
}) {}
