import type Pg from "pg"

/**
 * How many statements are kept prepared, and which. Each prepared statement holds its parse tree
 * (and, once PostgreSQL settles on one, its plan) in every backend that used it, so the number is
 * bounded; a statement is prepared only once it has been seen `minUses` times, so the slots go to
 * what the app repeats (the session check, a listing's query) rather than to one-off texts such as a
 * bulk insert's VALUES list for one particular row count.
 */
export interface PreparedStatementLimits {
  readonly maxStatements: number
  readonly minUses: number
  readonly maxTextLength: number
  /** Characters of the texts counted while not yet prepared; the counts start over when they fill. */
  readonly maxCounted: number
}

export const DEFAULT_PREPARED_STATEMENT_LIMITS: PreparedStatementLimits = {
  maxStatements: 200,
  minUses: 3,
  maxTextLength: 8_192,
  maxCounted: 4_000_000,
}

/**
 * One query PostgreSQL plans, and only one: a text with a semicolon may hold several statements (a
 * migration), which the simple protocol carries and a prepared statement cannot; transaction control
 * and DDL have no plan worth keeping.
 */
const PLANNED = /^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b[^;]*$/i

/**
 * The name a statement text is prepared under, or undefined while it stays an unnamed statement.
 * Names are per pool and stable: one text, one name, on every connection.
 */
export const statementNamer = (limits: PreparedStatementLimits = DEFAULT_PREPARED_STATEMENT_LIMITS): ((text: string) => string | undefined) => {
  const names = new Map<string, string>()
  const uses = new Map<string, number>()
  let counted = 0
  return (text) => {
    const name = names.get(text)
    if (name !== undefined) return name
    if (names.size >= limits.maxStatements || text.length > limits.maxTextLength || !PLANNED.test(text)) return undefined
    const seen = (uses.get(text) ?? 0) + 1
    if (seen < limits.minUses) {
      if (seen === 1) {
        if (counted + text.length > limits.maxCounted) {
          uses.clear()
          counted = 0
        }
        counted += text.length
      }
      uses.set(text, seen)
      return undefined
    }
    uses.delete(text)
    const named = `scopeline_${names.size + 1}`
    names.set(text, named)
    return named
  }
}

type Query = (...args: ReadonlyArray<unknown>) => unknown

/** A plain query object; a submittable (a cursor, a COPY stream) is left as it is. */
const isQueryConfig = (value: unknown): value is Pg.QueryConfig =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { text?: unknown }).text === "string" &&
  typeof (value as { submit?: unknown }).submit !== "function"

/**
 * Sends the statements `nameFor` names as named prepared statements on every connection of `pool`.
 * `@effect/sql-pg` sends each statement unnamed, so PostgreSQL parses and plans it again on every
 * call; prepared, a statement is parsed once per connection, and once PostgreSQL finds its generic
 * plan no worse than the ones it makes per call (at once for a statement without parameters) it
 * stops planning it (docs/benchmarks.md).
 */
export const prepareRepeatedStatements = (pool: Pg.Pool, nameFor: (text: string) => string | undefined): void => {
  pool.on("connect", (client) => {
    const target = client as unknown as { query: Query }
    const query: Query = target.query.bind(client)
    // A prepared statement whose plan no longer fits (another process migrated the schema under it)
    // fails again on every call on its connection; this one connection is closed instead, so the
    // pool replaces it and the next call prepares the statement afresh.
    const retireIfStale = (error: unknown) => {
      if (isStale(error)) void client.end().catch(() => {})
    }
    const named = (config: Pg.QueryConfig, rest: ReadonlyArray<unknown>) => {
      const callback = rest.find((arg) => typeof arg === "function") as ((error: unknown, result: unknown) => void) | undefined
      if (callback !== undefined) {
        return query(config, (error: unknown, result: unknown) => {
          retireIfStale(error)
          callback(error, result)
        })
      }
      return (query(config) as Promise<unknown>).catch((error: unknown) => {
        retireIfStale(error)
        throw error
      })
    }
    target.query = (...args) => {
      const [config, values] = args
      if (typeof config === "string" && (values === undefined || Array.isArray(values))) {
        const name = nameFor(config)
        if (name !== undefined) return named({ name, text: config, values: values ?? [] }, args.slice(2))
      } else if (isQueryConfig(config) && config.name === undefined) {
        const name = nameFor(config.text)
        const rest = args.slice(1)
        const withValues = Array.isArray(rest[0]) ? { ...config, values: rest[0] } : config
        if (name !== undefined) return named({ ...withValues, name }, rest)
      }
      return query(...args)
    }
  })
}

/**
 * PostgreSQL's answers for a prepared statement its connection can no longer use: its result's shape
 * changed under it (0A000, "cached plan must not change result type") or it is gone (26000).
 */
const isStale = (error: unknown): boolean => {
  const { code, message } = (error ?? {}) as { readonly code?: unknown; readonly message?: unknown }
  return code === "26000" || (code === "0A000" && typeof message === "string" && message.includes("cached plan must not change result type"))
}
