import { readSettings, settingsLayer } from "@scopeline/settings/SettingsSnapshot"
import { describe, expect, test } from "bun:test"
import { settings } from "@scopeline/settings/Settings"
import { Config, ConfigProvider, Effect, Either, Option } from "effect"

const snapshotOf = (env: Record<string, string>) => {
  const read = readSettings(env)
  if (Either.isLeft(read)) throw new Error(read.left.join("; "))
  return read.right
}

describe("settings are read once per process", () => {
  test("every invalid setting is reported at once, each by name with what it expects", () => {
    const read = readSettings({ PORT: "abc", MATCHER_CONCURRENCY: "ten", REVIEW_BELOW: "high", AUTH: "ldap", WORKER_QUEUES: "parse,nightly", PUBLIC_URL: "not a url" })
    expect(Either.isLeft(read)).toBe(true)
    const problems = Either.isLeft(read) ? read.left : []
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["AUTH", "MATCHER_CONCURRENCY", "PORT", "PUBLIC_URL", "REVIEW_BELOW", "WORKER_QUEUES"])
    expect(problems.find((p) => p.startsWith("AUTH:"))).toContain("local, cognito")
    expect(problems.find((p) => p.startsWith("WORKER_QUEUES:"))).toContain('"nightly"')
  })

  test("only declared variables are kept: an undeclared one cannot reach a reader", () => {
    const snapshot = snapshotOf({ PORT: "8080", HOME: "/root", SCOPELINE_SECRET_FLAG: "on", REVIEW_BELOW: "" })
    expect([...snapshot.keys()]).toEqual(["PORT"])
    const undeclared = Effect.runSync(Config.option(Config.string("SCOPELINE_SECRET_FLAG")).pipe(Effect.provide(settingsLayer(snapshot))))
    expect(Option.isNone(undeclared)).toBe(true)
  })

  test("LOG_LEVEL accepts exactly what the logger reads: every declared level, in any case, passes both", () => {
    const { values } = settings.LOG_LEVEL
    for (const text of [...values, ...values.map((v) => v.toUpperCase()), ...values.map((v) => v.toLowerCase())]) {
      const snapshot = snapshotOf({ LOG_LEVEL: text })
      expect(Effect.runSync(Effect.either(Config.logLevel("LOG_LEVEL").pipe(Effect.provide(settingsLayer(snapshot))))).pipe(Either.isRight)).toBe(true)
    }
    for (const text of ["Warning", "None", "loud"]) {
      expect(Either.isLeft(readSettings({ LOG_LEVEL: text }))).toBe(true)
      const logger = Effect.runSync(Effect.either(Config.logLevel("LOG_LEVEL").pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOG_LEVEL", text]]))))))
      expect(Either.isLeft(logger)).toBe(true)
    }
  })

  test("readers get the snapshot's typed values, not a later change of the environment", () => {
    const before = process.env.MATCHER_CONCURRENCY
    const layer = settingsLayer(snapshotOf({ MATCHER_CONCURRENCY: "7", WORKER_QUEUES: "parse,match" }))
    try {
      process.env.MATCHER_CONCURRENCY = "99"
      const read = Effect.runSync(
        Config.all([Config.integer("MATCHER_CONCURRENCY"), Config.array(Config.string(), "WORKER_QUEUES")]).pipe(Effect.provide(layer)),
      )
      expect(read).toEqual([7, ["parse", "match"]])
    } finally {
      if (before === undefined) delete process.env.MATCHER_CONCURRENCY
      else process.env.MATCHER_CONCURRENCY = before
    }
  })
})
