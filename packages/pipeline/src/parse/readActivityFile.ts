import type { NewActivity } from "@scopeline/db/ActivitiesRepo"
import { RowError } from "@scopeline/domain/Upload"
import { parse, CsvError } from "csv-parse"
import { Chunk, Data, Effect, Either, Stream } from "effect"
import type { Readable } from "node:stream"
import { makeRowDecoder, type RawRow } from "./ActivityRow.ts"
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

const fileProblem = (reason: string) => new FileRejected({ reason, errors: [new RowError({ row: null, column: null, value: null, message: reason })], errorCount: 1 })

/**
 * Decodes the byte stream as UTF-8, refusing anything that is not text (a NUL byte or an invalid
 * sequence), and strips a byte-order mark.
 */
async function* utf8Text(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
  for await (const chunk of input) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk
    if (bytes.includes(0)) throw new NotText()
    try {
      yield decoder.decode(bytes, { stream: true })
    } catch {
      throw new NotText()
    }
  }
  try {
    const rest = decoder.decode()
    if (rest) yield rest
  } catch {
    throw new NotText()
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

/** Buffers the stream's start until the header line is complete, then replays everything. */
async function* withHeaderLine(text: AsyncIterator<string>, onHeader: (line: string) => void): AsyncGenerator<string> {
  let head = ""
  while (!/[\r\n]/.test(head) && head.length < 1_000_000) {
    const next = await text.next()
    if (next.done) break
    head += next.value
  }
  onHeader(head.split(/\r?\n|\r/)[0] ?? "")
  if (head) yield head
  while (true) {
    const next = await text.next()
    if (next.done) return
    yield next.value
  }
}

interface State {
  readonly columns: ColumnMap | undefined
  readonly decode: ReturnType<typeof makeRowDecoder>
  readonly rowCount: number
  readonly errors: Array<RowError>
  readonly errorCount: number
}

const toRaw = (record: ReadonlyArray<string>, columns: ColumnMap): RawRow => {
  const at = (index: number | undefined) => (index === undefined ? undefined : (record[index] ?? ""))
  const k = columns.known
  return {
    description: at(k.description) ?? "",
    quantity: at(k.quantity) ?? "",
    unit: at(k.unit) ?? "",
    date: at(k.date) ?? "",
    category: at(k.category),
    geography: at(k.geography),
    period_start: at(k.period_start),
    period_end: at(k.period_end),
    reference: at(k.reference),
  }
}

const columnHeader = (columns: ColumnMap, headers: ReadonlyArray<string>, column: string) => {
  const index = columns.known[column as keyof ColumnMap["known"]]
  return index === undefined ? column : (headers[index]?.trim() ?? column)
}

/**
 * Streams an activity file, validating every row, and hands valid rows to `store` in batches. After
 * the first bad row nothing more is stored, but reading goes on to report up to MAX_ROW_ERRORS
 * problems; then the whole file is refused. Memory is bounded by one batch whatever the file size:
 * the parser pulls bytes only as fast as `store` takes batches.
 */
export const readActivityFile = <E, R>(
  input: Readable,
  store: (rows: ReadonlyArray<NewActivity>) => Effect.Effect<void, E, R>,
): Effect.Effect<{ readonly rowCount: number }, FileRejected | E, R> =>
  Effect.gen(function* () {
    const sniffed: { delimiter: "," | ";" } = { delimiter: "," }
    const text = withHeaderLine(utf8Text(input)[Symbol.asyncIterator](), (line) => {
      sniffed.delimiter = detectDelimiter(line)
    })
    // The delimiter is known once the first chunk is read, before the parser sees any byte.
    const first = yield* Effect.tryPromise({ try: () => text.next(), catch: (error) => describeReadFailure(error, 0) })
    if (first.done || first.value.trim() === "") {
      input.destroy()
      return yield* fileProblem("The file is empty.")
    }
    const delimiter = sniffed.delimiter
    const parser = parse({ delimiter, relax_column_count: true, skip_empty_lines: false, bom: true, relax_quotes: false })
    const feed = (async () => {
      try {
        if (!parser.write(first.value)) await new Promise((resume) => parser.once("drain", resume))
        for await (const chunk of text) {
          if (!parser.write(chunk)) await new Promise((resume) => parser.once("drain", resume))
        }
        parser.end()
      } catch (error) {
        parser.destroy(error as Error)
      }
    })()
    void feed

    let headers: ReadonlyArray<string> = []
    const state: State = { columns: undefined, decode: makeRowDecoder(delimiter === ";"), rowCount: 0, errors: [], errorCount: 0 }
    let recordIndex = 0
    let batch: Array<NewActivity> = []

    const addError = (row: number | null, column: string | null, value: string | null, message: string) => {
      state.errors.length < MAX_ROW_ERRORS && state.errors.push(new RowError({ row, column, value, message }))
      ;(state as { errorCount: number }).errorCount++
    }

    const handle = (record: ReadonlyArray<string>): Either.Either<void, FileRejected> => {
      recordIndex++
      if (state.columns === undefined) {
        headers = record
        const mapped = mapColumns(record)
        if ("_tag" in mapped) {
          return Either.left(
            mapped._tag === "MissingColumns"
              ? fileProblem(
                  `The header row is missing the required column${mapped.missing.length > 1 ? "s" : ""} ${mapped.missing.join(", ")}. Found: ${mapped.found.filter((f) => f !== "").join(", ") || "nothing"}.`,
                )
              : fileProblem(`The header row names the column "${mapped.column}" twice.`),
          )
        }
        ;(state as { columns: ColumnMap }).columns = mapped
        return Either.right(undefined)
      }
      const columns = state.columns
      // A spreadsheet row: the header is row 1, and a blank line is a row too.
      const row = recordIndex
      if (record.every((field) => field.trim() === "")) return Either.right(undefined)
      if (record.length !== columns.width) {
        addError(row, null, null, `has ${record.length} value${record.length === 1 ? "" : "s"} but the header has ${columns.width} columns`)
        return Either.right(undefined)
      }
      const decoded = state.decode(toRaw(record, columns))
      if (Either.isLeft(decoded)) {
        const raw = toRaw(record, columns) as Record<string, string | undefined>
        for (const problem of decoded.left) {
          addError(row, columnHeader(columns, headers, problem.column), raw[problem.column] ?? null, `${columnHeader(columns, headers, problem.column)} ${problem.message}`)
        }
        return Either.right(undefined)
      }
      ;(state as { rowCount: number }).rowCount++
      if (state.errorCount > 0) return Either.right(undefined)
      const value = decoded.right
      let extra: string | null = null
      if (columns.extra.length > 0) {
        const fields: Record<string, string> = {}
        for (const column of columns.extra) fields[column.header] = record[column.index] ?? ""
        extra = JSON.stringify(fields)
      }
      batch.push({ rowNumber: row, ...value, extra })
      return Either.right(undefined)
    }

    // Records the parser has produced (it runs ahead of the rows handled here), header included.
    const parsedRecords = () => parser.info.records
    const records = Stream.fromAsyncIterable(parser as AsyncIterable<Array<string>>, (error) =>
      describeReadFailure(error, parsedRecords()),
    ).pipe(
      Stream.rechunk(1000),
      Stream.mapChunksEffect((chunk) =>
        Effect.gen(function* () {
          for (const record of chunk) {
            const result = handle(record)
            if (Either.isLeft(result)) return yield* result.left
            if (state.errorCount >= MAX_ROW_ERRORS) break
          }
          if (batch.length >= BATCH_SIZE && state.errorCount === 0) {
            const full = batch
            batch = []
            yield* store(full)
          }
          return Chunk.of(state.errorCount)
        }),
      ),
      Stream.takeUntil((errorCount) => errorCount >= MAX_ROW_ERRORS),
    )

    yield* Stream.runDrain(records).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          parser.destroy()
          input.destroy()
        }),
      ),
    )

    if (state.columns === undefined) return yield* fileProblem("The file is empty.")
    if (state.errorCount > 0) {
      const more = state.errorCount >= MAX_ROW_ERRORS ? `${MAX_ROW_ERRORS} or more` : String(state.errorCount)
      return yield* new FileRejected({
        reason: `The file was rejected: ${more} problem${state.errorCount === 1 ? "" : "s"} found${state.errors[0]?.row ? `, the first in row ${state.errors[0].row}` : ""}. Nothing was imported; fix the rows listed and upload the file again.`,
        errors: state.errors,
        errorCount: state.errorCount,
      })
    }
    if (state.rowCount === 0) return yield* fileProblem("The file has a header row but no activity rows.")
    if (batch.length > 0) yield* store(batch)
    return { rowCount: state.rowCount }
  })

const describeReadFailure = (error: unknown, recordIndex: number): FileRejected => {
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
  return fileProblem(`The file could not be read: ${error instanceof Error ? error.message : String(error)}`)
}
