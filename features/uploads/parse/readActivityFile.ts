import type { NewActivity } from "../ActivitiesRepo.ts"
import { RowError } from "../Upload.ts"
import { CsvError, type Options, Parser } from "csv-parse"
import { Data, Effect, Either, Fiber, Option } from "effect"
import type { Readable } from "node:stream"
import { makeRowDecoder, NO_SITES, type RawRow, type SiteCodes } from "./ActivityRow.ts"
import { type ColumnMap, mapColumns } from "./columns.ts"

/** The whole file is refused: a summary for the upload page and the row errors behind it. */
export class FileRejected extends Data.TaggedError("FileRejected")<{
  readonly reason: string
  readonly errors: ReadonlyArray<RowError>
  /** All problems found, which may exceed the ones listed (at most MAX_ROW_ERRORS). */
  readonly errorCount: number
}> {}

export const MAX_ROW_ERRORS = 100
export const BATCH_SIZE = 5000

// A value quoted back in a row error or a reason is cut here: one 5 MB cell would otherwise travel with
// every listing of uploads, to every user.
const QUOTE_LIMIT = 200
const REASON_LIMIT = 1_000

/** `text` cut to `limit` characters, saying how much was left out. */
/** An extra column's header, and each of its values (Excel's limit for a cell, which exports write them to). */
const MAX_HEADER_LENGTH = 200
const MAX_EXTRA_LENGTH = 32_767

const clip = (text: string, limit = QUOTE_LIMIT): string =>
  text.length <= limit ? text : `${text.slice(0, limit)}… (${(text.length - limit).toLocaleString("en-GB")} more characters)`

const fileProblem = (reason: string) => {
  const clipped = clip(reason, REASON_LIMIT)
  return new FileRejected({ reason: clipped, errors: [new RowError({ row: null, column: null, value: null, message: clipped })], errorCount: 1 })
}

/**
 * Checks that the byte stream is UTF-8 text, refusing anything that is not (a NUL byte or an
 * invalid sequence). The parser gets the bytes themselves (csv-parse strips a byte-order mark); the
 * decoded text is only kept for the header line.
 */
const utf8Checker = () => {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
  return {
    /** The chunk's text; throws NotText. */
    chunk: (bytes: Buffer): string => {
      if (bytes.includes(0)) throw new NotText()
      try {
        return decoder.decode(bytes, { stream: true })
      } catch {
        throw new NotText()
      }
    },
    end: (): string => {
      try {
        return decoder.decode()
      } catch {
        throw new NotText()
      }
    },
  }
}
class NotText extends Error {}

/** Comma unless the header line uses more semicolons than commas (European spreadsheet exports). */
export const detectDelimiter = (headerLine: string): "," | ";" => {
  let commas = 0
  let semicolons = 0
  let quoted = false
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted
    else if (!quoted && ch === ",") commas++
    else if (!quoted && ch === ";") semicolons++
  }
  return semicolons > commas ? ";" : ","
}

const fieldAt = (record: ReadonlyArray<string>, index: number | undefined) => (index === undefined ? undefined : (record[index] ?? ""))

const toRaw = (record: ReadonlyArray<string>, columns: ColumnMap): RawRow => {
  const k = columns.known
  return {
    description: fieldAt(record, k.description) ?? "",
    quantity: fieldAt(record, k.quantity) ?? "",
    unit: fieldAt(record, k.unit) ?? "",
    date: fieldAt(record, k.date) ?? "",
    category: fieldAt(record, k.category),
    geography: fieldAt(record, k.geography),
    period_start: fieldAt(record, k.period_start),
    period_end: fieldAt(record, k.period_end),
    reference: fieldAt(record, k.reference),
    site: fieldAt(record, k.site),
  }
}

const isBlank = (record: ReadonlyArray<string>) => {
  for (let i = 0; i < record.length; i++) if (record[i]!.trim() !== "") return false
  return true
}

const columnHeader = (columns: ColumnMap, headers: ReadonlyArray<string>, column: string) => {
  const index = columns.known[column as keyof ColumnMap["known"]]
  return index === undefined ? column : (headers[index]?.trim() ?? column)
}

/**
 * csv-parse's parsing engine, driven synchronously: each chunk of bytes is parsed in one call that
 * hands back its records (or the CSV error), with none of the stream machinery's per-record cost.
 * It is the engine `csv-parse`'s `Parser` stream wraps (`parser.api`; csv-parse is pinned exactly).
 */
interface CsvEngine {
  readonly parse: (
    buf: Buffer | undefined,
    end: boolean,
    push: (record: Array<string>) => void,
    close: () => void,
  ) => Error | undefined
  readonly info: { readonly records: number }
}
const csvEngine = (options: Options): CsvEngine => {
  const engine = (new Parser(options) as unknown as { api?: CsvEngine }).api
  if (typeof engine?.parse !== "function") throw new Error("csv-parse: the parser's engine (Parser#api) is missing")
  return engine
}

/** How many stored batches apart the parse forces a full collection. */
const GC_EVERY_BATCHES = 2

/** A full, synchronous garbage collection (Bun); a no-op elsewhere. */
const collectGarbage = () => {
  if (typeof Bun !== "undefined") Bun.gc(true)
}

/** Chunks of the file as read from storage (typically 256 KiB). */
const readChunks = (input: Readable) => {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]()
  return async (): Promise<Buffer | undefined> => {
    const next = await iterator.next()
    if (next.done) return undefined
    return typeof next.value === "string" ? Buffer.from(next.value) : next.value
  }
}

/**
 * Streams an activity file, validating every row, and hands valid rows to `store` in batches. After
 * the first bad row nothing more is stored, but reading goes on to report up to MAX_ROW_ERRORS
 * problems; then the whole file is refused. Memory is bounded by two batches whatever the file size:
 * bytes are read only as fast as `store` takes batches. One `store` runs while the next batch is
 * parsed (the database and the parser work at the same time), never two at once.
 */
export const readActivityFile = <E, R>(
  input: Readable,
  store: (rows: ReadonlyArray<NewActivity>) => Effect.Effect<void, E, R>,
  /** The sites the `site` column may name (read once per file, in the parse's transaction). */
  sites: SiteCodes = NO_SITES,
): Effect.Effect<{ readonly rowCount: number }, FileRejected | FileReadFailed | E, R> =>
  Effect.suspend(() => {
    let storing: Fiber.RuntimeFiber<void, E> | undefined
    return Effect.gen(function* () {
      const nextChunk = readChunks(input)
      const utf8 = utf8Checker()
      let engine: CsvEngine | undefined
      const parsedRecords = () => engine?.info.records ?? 0
      /** The next chunk, checked to be text; undefined at the end of the file. */
      const read = Effect.tryPromise({
        try: async () => {
          const bytes = await nextChunk()
          if (bytes === undefined) return { bytes, text: utf8.end() }
          return { bytes, text: utf8.chunk(bytes) }
        },
        catch: (error) => describeReadFailure(error, parsedRecords()),
      })

      // The delimiter is known once the header line is read, before the parser sees any byte.
      const head: Array<Buffer> = []
      let headText = ""
      let ended = false
      while (!/[\r\n]/.test(headText) && headText.length < 1_000_000) {
        const next = yield* read
        headText += next.text
        if (next.bytes === undefined) {
          ended = true
          break
        }
        head.push(next.bytes)
      }
      if (headText.trim() === "") {
        input.destroy()
        return yield* fileProblem("The file is empty.")
      }
      const delimiter = detectDelimiter(headText.split(/\r?\n|\r/)[0] ?? "")
      // Every line ending is a row end, mixed in one file too (files pasted together from Windows and
      // Unix tools): csv-parse would otherwise take the first ending it sees as the only one and read
      // the other kind as part of a value. CRLF comes first so it is never read as two row ends.
      const csv = csvEngine({
        delimiter,
        record_delimiter: ["\r\n", "\n", "\r"],
        relax_column_count: true,
        skip_empty_lines: false,
        bom: true,
        relax_quotes: false,
      })
      engine = csv
      const decode = makeRowDecoder(delimiter === ";", sites)

      let columns: ColumnMap | undefined
      let headers: ReadonlyArray<string> = []
      let rowCount = 0
      const errors: Array<RowError> = []
      let errorCount = 0
      let recordIndex = 0
      let batch: Array<NewActivity> = []
      let flushes = 0

      const addError = (row: number | null, column: string | null, value: string | null, message: string) => {
        if (errors.length < MAX_ROW_ERRORS) {
          errors.push(
            new RowError({
              row,
              column: column === null ? null : clip(column),
              value: value === null ? null : clip(value),
              message: clip(message, REASON_LIMIT),
            }),
          )
        }
        errorCount++
      }

      /** One record of the file; a FileRejected when the whole file is refused at once (the header). */
      const handle = (record: Array<string>): FileRejected | undefined => {
        recordIndex++
        if (columns === undefined) {
          headers = record
          const mapped = mapColumns(record)
          if ("_tag" in mapped) {
            return mapped._tag === "MissingColumns"
              ? fileProblem(
                  `The header row is missing the required column${mapped.missing.length > 1 ? "s" : ""} ${mapped.missing.join(", ")}. Found: ${mapped.found.filter((f) => f !== "").map((f) => clip(f)).join(", ") || "nothing"}.`,
                )
              : fileProblem(`The header row names the column "${clip(mapped.column)}" twice.`)
          }
          const long = mapped.extra.find((column) => column.header.length > MAX_HEADER_LENGTH)
          if (long !== undefined) {
            return fileProblem(`The header of column ${long.index + 1} ("${clip(long.header)}") is longer than ${MAX_HEADER_LENGTH} characters.`)
          }
          columns = mapped
          return undefined
        }
        // A spreadsheet row: the header is row 1, and a blank line is a row too.
        const row = recordIndex
        if (isBlank(record)) return undefined
        if (record.length !== columns.width) {
          addError(row, null, null, `has ${record.length} value${record.length === 1 ? "" : "s"} but the header has ${columns.width} columns`)
          return undefined
        }
        const raw = toRaw(record, columns)
        const decoded = decode(raw)
        if (Either.isLeft(decoded)) {
          const fields = raw as Record<string, string | undefined>
          for (const problem of decoded.left) {
            addError(row, columnHeader(columns, headers, problem.column), fields[problem.column] ?? null, `${columnHeader(columns, headers, problem.column)} ${problem.message}`)
          }
          return undefined
        }
        // The file's own columns go to exports as they are: a value a spreadsheet cell cannot hold is a row error.
        const long = columns.extra.find((column) => (record[column.index] ?? "").length > MAX_EXTRA_LENGTH)
        if (long !== undefined) {
          addError(row, long.header, record[long.index] ?? "", `${clip(long.header)} is longer than ${MAX_EXTRA_LENGTH.toLocaleString("en-GB")} characters, the most a spreadsheet cell holds`)
          return undefined
        }
        rowCount++
        if (errorCount > 0) return undefined
        const value = decoded.right
        let extra: string | null = null
        if (columns.extra.length > 0) {
          // No prototype: a column named "__proto__" is data like any other.
          const fields: Record<string, string> = Object.create(null)
          for (const column of columns.extra) fields[column.header] = record[column.index] ?? ""
          extra = JSON.stringify(fields)
        }
        batch.push({
          rowNumber: row,
          description: value.description,
          quantity: value.quantity,
          unit: value.unit,
          date: value.date,
          periodStart: value.periodStart,
          periodEnd: value.periodEnd,
          category: value.category,
          geography: value.geography,
          reference: value.reference,
          siteId: value.siteId,
          extra,
        })
        return undefined
      }

      /** Hands the full batch to `store` in the background, once the previous one is stored. */
      const flush = Effect.gen(function* () {
        const full = batch
        batch = []
        if (storing) {
          // Waiting on the database anyway: collect now, so garbage from the batches parsed so far
          // (strings, chunk buffers) does not pile up, and the peak memory does not grow with the file.
          // At every second batch: at every batch, full collections were 41% of the worker's CPU profile
          // (more than parsing), on cores the database shares; every batch held 1M rows at 170 MB in 36.5 s,
          // every second one at 172 MB in 31.0 s, every fourth at 195 MB (docs/benchmarks.md).
          if (flushes++ % GC_EVERY_BATCHES === 0 && Option.isNone(yield* Fiber.poll(storing))) collectGarbage()
          yield* Fiber.join(storing)
        }
        storing = yield* Effect.fork(store(full))
      })

      const records: Array<Array<string>> = []
      const collect = (record: Array<string>) => {
        records.push(record)
      }
      const noop = () => {}
      /** Parses one chunk (the end of the file when undefined) and handles its records. */
      const consume = (bytes: Buffer | undefined) =>
        Effect.gen(function* () {
          const failure = csv.parse(bytes, bytes === undefined, collect, noop)
          for (let i = 0; i < records.length; i++) {
            const rejected = handle(records[i]!)
            if (rejected !== undefined) return yield* rejected
            if (errorCount >= MAX_ROW_ERRORS) break
            if (batch.length >= BATCH_SIZE && errorCount === 0) yield* flush
          }
          records.length = 0
          if (failure !== undefined) {
            const problem = describeReadFailure(failure, csv.info.records)
            // Rows already found wrong stay in the report, so one upload shows every problem.
            if (problem._tag === "FileRejected" && errorCount > 0) {
              for (const error of problem.errors) addError(error.row, error.column, error.value, error.message)
              return yield* new FileRejected({
                reason: `The file was rejected: ${errorCount} problems found, the first in row ${errors[0]?.row ?? "?"}. Nothing was imported; fix the rows listed and upload the file again.`,
                errors,
                errorCount,
              })
            }
            return yield* problem
          }
        })

      yield* Effect.gen(function* () {
        for (const bytes of head) {
          yield* consume(bytes)
          if (errorCount >= MAX_ROW_ERRORS) return
        }
        head.length = 0
        while (!ended) {
          const next = yield* read
          if (next.bytes === undefined) break
          yield* consume(next.bytes)
          if (errorCount >= MAX_ROW_ERRORS) return
        }
        yield* consume(undefined)
      }).pipe(Effect.ensuring(Effect.sync(() => input.destroy())))

      if (columns === undefined) return yield* fileProblem("The file is empty.")
      if (errorCount > 0) {
        const more = errorCount >= MAX_ROW_ERRORS ? `${MAX_ROW_ERRORS} or more` : String(errorCount)
        return yield* new FileRejected({
          reason: `The file was rejected: ${more} problem${errorCount === 1 ? "" : "s"} found${errors[0]?.row ? `, the first in row ${errors[0].row}` : ""}. Nothing was imported; fix the rows listed and upload the file again.`,
          errors,
          errorCount,
        })
      }
      if (rowCount === 0) return yield* fileProblem("The file has a header row but no activity rows.")
      if (batch.length > 0) yield* flush
      if (storing) {
        const last = storing
        storing = undefined
        yield* Fiber.join(last)
      }
      return { rowCount }
    }).pipe(
      // Whatever the outcome, no store is left running against the caller's transaction.
      Effect.ensuring(Effect.suspend(() => (storing ? Effect.asVoid(Fiber.await(storing)) : Effect.void))),
    )
  })

/** Reading the stored file failed (network, storage): not the file's fault, so the job is retried. */
export class FileReadFailed extends Data.TaggedError("FileReadFailed")<{ readonly cause: unknown }> {}

/** Only problems of the file itself reject it; anything else is retried. */
const describeReadFailure = (error: unknown, recordIndex: number): FileRejected | FileReadFailed =>
  error instanceof NotText || error instanceof CsvError ? describeFileProblem(error, recordIndex) : new FileReadFailed({ cause: error })

const describeFileProblem = (error: NotText | CsvError, recordIndex: number): FileRejected => {
  if (error instanceof NotText) {
    return fileProblem("The file is not UTF-8 text. Save it from your spreadsheet as \"CSV UTF-8\" and upload it again.")
  }
  if (error instanceof CsvError) {
    const row = recordIndex + 1
    switch (error.code) {
      case "CSV_QUOTE_NOT_CLOSED":
        return new FileRejected({
          reason: `A quoted value that starts in row ${row} is never closed. Check for a missing closing quote (").`,
          errors: [new RowError({ row, column: null, value: null, message: "a quoted value is never closed" })],
          errorCount: 1,
        })
      case "CSV_INVALID_CLOSING_QUOTE":
      case "INVALID_OPENING_QUOTE":
        return new FileRejected({
          reason: `Row ${row} has a misplaced quote ("). Quote whole values, and double any quote inside one ("").`,
          errors: [new RowError({ row, column: null, value: null, message: "misplaced quote" })],
          errorCount: 1,
        })
      default:
        return fileProblem(`The file could not be read as CSV near row ${row}: ${error.message}`)
    }
  }
  return fileProblem("The file could not be read.")
}
