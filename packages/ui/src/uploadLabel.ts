import { formatTimestamp, type ReaderPreferences } from "./format.ts"

/**
 * How a person tells one upload from another in a list or a choice: its file's name and when it was
 * uploaded, to the minute, since next month's file often has this month's name.
 */
export const uploadLabel = (
  upload: { readonly id: string; readonly originalFilename: string | null; readonly createdAt: Date },
  reader: ReaderPreferences,
): string => `${upload.originalFilename ?? `upload ${upload.id.slice(0, 8)}`} · ${formatTimestamp(upload.createdAt, reader)}`
