import { BlobStore, type BlobStoreError } from "@scopeline/storage/BlobStore"
import { stringify } from "csv-stringify/sync"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { once } from "node:events"
import { PassThrough, type Writable } from "node:stream"
import { EXPORT_CONTENT_TYPES, type ExportFormat } from "./Export.ts"
import { type Cell, csvCell, guardText, xlsxCell } from "./spreadsheetCell.ts"
import { rowXml, workbookEnd, workbookStart, ZipWriter } from "./XlsxStream.ts"

export interface WrittenFile {
  readonly rows: number
  readonly sizeBytes: number
}

/** Writes a page of chunks, waiting whenever the reader is behind: the stream's buffer is all the memory it takes. */
const writeWithBackPressure = (target: Writable, chunks: ReadonlyArray<unknown>) =>
  Effect.promise(async () => {
    for (const chunk of chunks) if (!target.write(chunk)) await once(target, "drain")
  })

/** A sheet writer: header first, then pages of rows, then `end` flushes what is left. */
interface SheetWriter {
  readonly page: (rows: ReadonlyArray<ReadonlyArray<Cell>>) => Effect.Effect<void>
  readonly end: Effect.Effect<void>
}

const csvWriter = (out: PassThrough, header: ReadonlyArray<string>): Effect.Effect<SheetWriter> =>
  Effect.sync(() => {
    // csv-stringify quotes what needs quoting (commas, quotes, line breaks), a page at a time: its
    // synchronous form is several times faster than feeding its stream record by record (measured,
    // docs/benchmarks.md). The BOM makes spreadsheets read the file as UTF-8.
    const page = (rows: ReadonlyArray<ReadonlyArray<string>>) => stringify(rows.map((row) => [...row]), { record_delimiter: "windows" })
    out.write(`\uFEFF${page([header.map(guardText)])}`)
    return {
      page: (rows) => writeWithBackPressure(out, [page(rows.map((cells) => cells.map(csvCell)))]),
      end: Effect.sync(() => {
        out.end()
      }),
    }
  })

const xlsxWriter = (out: PassThrough, header: ReadonlyArray<string>, sheetName: string): Effect.Effect<SheetWriter> =>
  Effect.sync(() => {
    const zip = new ZipWriter()
    let rowNumber = 1
    out.write(workbookStart(zip, sheetName))
    out.write(zip.append(rowXml(rowNumber, header.map(guardText))))
    return {
      page: (rows) => {
        let xml = ""
        for (const cells of rows) xml += rowXml(++rowNumber, cells.map(xlsxCell))
        return writeWithBackPressure(out, [zip.append(xml)])
      },
      end: Effect.sync(() => {
        out.end(workbookEnd(zip))
      }),
    }
  })

/**
 * Streams rows into a CSV or XLSX file in the blob store. The store reads the file while it is
 * written (a pipe between the two), so memory holds one page of rows plus the pipe's buffer, whatever
 * the number of rows. `onPage` is told how many rows are written after each page.
 */
export const writeExportFile = <E>(options: {
  readonly key: string
  readonly format: ExportFormat
  readonly sheetName: string
  readonly header: ReadonlyArray<string>
  readonly rows: Stream.Stream<ReadonlyArray<Cell>, E>
  readonly onPage: (rowsWritten: number) => Effect.Effect<void>
}): Effect.Effect<WrittenFile, E | BlobStoreError, BlobStore> =>
  Effect.gen(function* () {
    const store = yield* BlobStore
    const out = new PassThrough({ highWaterMark: 1024 * 1024 })
    const stored = yield* Effect.fork(store.write(options.key, out, EXPORT_CONTENT_TYPES[options.format]))
    const writer = yield* options.format === "csv" ? csvWriter(out, options.header) : xlsxWriter(out, options.header, options.sheetName)
    let rows = 0
    const produced = yield* options.rows.pipe(
      Stream.grouped(1000),
      Stream.runForEach((page) =>
        Effect.gen(function* () {
          yield* writer.page(Chunk.toReadonlyArray(page))
          rows += page.length
          yield* options.onPage(rows)
        }),
      ),
      Effect.zipRight(writer.end),
      Effect.exit,
    )
    if (produced._tag === "Failure") {
      // The store must not keep half a file: end its input with an error, so its write fails too.
      out.destroy(new Error("export aborted"))
      yield* Fiber.await(stored)
      return yield* Effect.failCause(produced.cause)
    }
    const info = yield* Fiber.join(stored)
    return { rows, sizeBytes: info.size }
  })
