import { BadRequest, PayloadTooLarge } from "./ApiError.ts"
import { Effect, ParseResult, Schema } from "effect"

/**
 * A problem's message without the value (it may be a password, or 1 MB long) and without the
 * server's own schema: a mismatch of a whole object or list spells out every field's type, patterns
 * included, where the caller needs only to know what kind of value was wanted.
 */
const readableMessage = (message: string) => {
  const text = message.replace(/, actual [\s\S]*$/, "")
  if (text.startsWith("Expected {")) return "must be an object"
  if (/^Expected (readonly \[|ReadonlyArray<|Array<)/.test(text)) return "must be an array"
  if (/^Expected \w+ \((Encoded|Type) side\)$/.test(text)) return "is not of the expected type"
  if (text === "Expected a Universally Unique Identifier") return "must be a UUID (like 3f2c1a9e-0b7d-4c1e-9a51-2d6f8e4b7c10)"
  const items = /^Expected an array of at (most|least) (\d+) item\(s\)$/.exec(text)
  if (items) return items[1] === "least" && items[2] === "1" ? "must have at least one item" : `must have at ${items[1]} ${items[2]} items`
  const length = /^Expected a string at (most|least) (\d+) character\(s\) long$/.exec(text)
  if (length) return length[1] === "least" && length[2] === "1" ? "must not be empty" : `must be at ${length[1]} ${length[2]} characters long`
  return text.length > 200 ? "is not of the expected type" : text
}

const LITERAL = /^Expected ("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false)$/

/**
 * The problems of a failed decode as users should read them (`readableMessage`), one per problem: a
 * union reports each branch it tried, so the "Expected undefined" or "Expected null" of an optional
 * or nullable field is dropped next to the field's real problem, and a list of allowed literals is
 * said once ("must be one of \"month\", \"year\"") instead of once per literal.
 * `path` is the field's path, dot-separated, "" for the value itself.
 */
export const readableProblems = (error: ParseResult.ParseError): Array<{ readonly path: string; readonly message: string }> => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
    path: issue.path.join("."),
    message: readableMessage(issue.message),
  }))
  const inside = (other: { readonly path: string }, path: string) => other.path === path || other.path.startsWith(`${path}.`)
  const kept = issues.filter(
    (issue) =>
      !/^Expected (undefined|null)$/.test(issue.message) ||
      !issues.some((other) => other !== issue && inside(other, issue.path) && !/^Expected (undefined|null)$/.test(other.message)),
  )
  const problems: Array<{ readonly path: string; message: string; readonly literals: Array<string> }> = []
  const byPath = new Map<string, (typeof problems)[number]>()
  for (const issue of kept) {
    const literal = LITERAL.exec(issue.message)?.[1]
    const group = literal === undefined ? undefined : byPath.get(issue.path)
    if (literal !== undefined && group !== undefined) {
      group.literals.push(literal)
      group.message = `must be one of ${group.literals.join(", ")}`
      continue
    }
    const problem = { ...issue, literals: literal === undefined ? [] : [literal] }
    if (literal !== undefined) byPath.set(issue.path, problem)
    problems.push(problem)
  }
  // A union's branches may say the same thing twice, one more fully ("must be a date as YYYY-MM-DD" and
  // "must be a date as YYYY-MM-DD or a month as YYYY-MM"): the fuller one is kept.
  const fuller = problems.filter(
    (problem) => !problems.some((other) => other !== problem && other.path === problem.path && other.message.length > problem.message.length && other.message.startsWith(problem.message)),
  )
  return fuller.map(({ path, message }) => ({ path, message }))
}

/** A UUID's text in any case (Schema.UUID's shape), for the places that test a string, not decode one. */
export const UUID_TEXT = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
const UUID_ONLY = new RegExp(`^${UUID_TEXT}$`)
export const isUuidText = (text: string): boolean => UUID_ONLY.test(text)

/** Decodes untrusted input with a Schema; failures become a 400 listing each problem and where. */
export const decodeInput =
  <A, I>(schema: Schema.Schema<A, I>, what: string) =>
  (input: unknown) =>
    Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "ignore" })(input).pipe(
      Effect.mapError((error) => new BadRequest({ message: `The ${what} is invalid.`, details: readableProblems(error) })),
    )

/** Query parameters as an object; empty values (a form's "any" choice) count as absent. */
export const queryParams = (request: Request): Record<string, string> =>
  Object.fromEntries([...new URL(request.url).searchParams].filter(([, value]) => value !== ""))

/**
 * A whole number in a query parameter, written in decimal digits only: `0x10`, `1e2`, `+5` and ` 5` are
 * refused rather than read as 16, 100 or 5 (what `Number()` would make of them), so a link means one thing.
 */
export const QueryInt = Schema.String.pipe(
  Schema.pattern(/^(0|[1-9][0-9]{0,14})$/, { message: () => "must be a whole number written in digits (0-9)" }),
  Schema.compose(Schema.NumberFromString),
)

const CALENDAR = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-](\d{2}):(\d{2}))?$/

/**
 * Whether an ISO 8601 date or date-time names a day and a time the calendar and the clock have.
 * JavaScript's Date rolls 2026-02-30 over to 2 March and 24:00 to the next day, which would move a
 * value into another day; PostgreSQL has no year 0. Absent fields read as 0: which fields a value
 * must have is the caller's pattern's to say.
 */
export const isCalendarInstant = (text: string): boolean => {
  const match = CALENDAR.exec(text)
  if (match === null) return false
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.slice(1).map((field) => Number(field ?? 0)) as [
    number, number, number, number, number, number, number, number,
  ]
  // Date.UTC reads years 0–99 as 1900–1999, whose months have the same lengths (year 0 is refused anyway).
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 &&
    offsetHour <= 23 && offsetMinute <= 59
}

/** The largest JSON or form body a request may send; files go to the blob store, never through these. */
export const MAX_BODY_BYTES = 1024 * 1024
// Deeper than any request this API defines, and shallow enough that no decoder recursion is at risk.
const MAX_JSON_DEPTH = 32

/**
 * The body's bytes, read at most MAX_BODY_BYTES: a larger declared or streamed body is refused (413)
 * as soon as it passes the limit, never buffered whole first.
 */
const readBody = (request: Request) =>
  Effect.gen(function* () {
    const tooLarge = new PayloadTooLarge({
      message: `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`,
      details: { max_bytes: MAX_BODY_BYTES },
    })
    const declared = Number(request.headers.get("content-length") ?? "0")
    if (declared > MAX_BODY_BYTES) return yield* tooLarge
    if (request.body === null) return Buffer.alloc(0)
    const reader = request.body.getReader()
    const chunks: Array<Uint8Array> = []
    let size = 0
    while (true) {
      const { done, value } = yield* Effect.tryPromise({
        try: () => reader.read(),
        catch: () => new BadRequest({ message: "The request body could not be read." }),
      })
      if (done) break
      size += value.byteLength
      if (size > MAX_BODY_BYTES) {
        // Not awaited: the answer must not wait on the client's stream being torn down.
        reader.cancel().catch(() => undefined)
        return yield* tooLarge
      }
      chunks.push(value)
    }
    return Buffer.concat(chunks)
  })

/** The first problem that makes a decoded value unsafe to pass on: NUL characters, or nesting too deep. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const unsafeJson = (value: unknown, depth = 0): string | undefined => {
  if (depth > MAX_JSON_DEPTH) return `is nested more than ${MAX_JSON_DEPTH} levels deep`
  if (typeof value === "string") {
    if (value.includes("\u0000")) return "contains a NUL character"
    // "\udc00" is valid JSON but no character: PostgreSQL's json refuses it, so it would fail later as a 500.
    return !LONE_SURROGATE.test(value) ? undefined : "contains an unpaired UTF-16 surrogate (\\uD800–\\uDFFF on its own), which is not a character"
  }
  if (typeof value !== "object" || value === null) return undefined
  // Keys need no check: a decoder keeps only the fields it defines, and none has a NUL in its name.
  for (const item of Object.values(value)) {
    const problem = unsafeJson(item, depth + 1)
    if (problem) return problem
  }
  return undefined
}

/**
 * Reads a JSON body: at most MAX_BODY_BYTES (413), valid JSON, no NUL characters or unpaired
 * surrogates (PostgreSQL cannot store them) and no absurd nesting (400).
 */
export const jsonBody = (request: Request) =>
  Effect.gen(function* () {
    const text = (yield* readBody(request)).toString("utf8")
    const parsed = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => new BadRequest({ message: "The request body must be valid JSON." }),
    })
    const problem = unsafeJson(parsed)
    if (problem) return yield* new BadRequest({ message: `The request body ${problem}.` })
    return parsed
  })

/** Reads a form (URL-encoded or multipart) within MAX_BODY_BYTES; a NUL character in a field is a 400. */
export const formBody = (request: Request) =>
  Effect.gen(function* () {
    // Bytes, not text: a multipart body may hold a file that is not UTF-8.
    const bytes = yield* readBody(request)
    const form = yield* Effect.tryPromise({
      try: () => new Response(bytes, { headers: { "content-type": request.headers.get("content-type") ?? "" } }).formData(),
      catch: () => new BadRequest({ message: "The form could not be read." }),
    })
    for (const [name, value] of form) {
      if (name.includes("\u0000") || (typeof value === "string" && value.includes("\u0000"))) {
        return yield* new BadRequest({ message: "The form contains a NUL character." })
      }
    }
    return form
  })

/** A form field's text, or undefined when it is absent or a file. */
export const formText = (form: FormData, name: string): string | undefined => {
  const value = form.get(name)
  return typeof value === "string" ? value : undefined
}
