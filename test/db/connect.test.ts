import { afterAll, expect, test } from "bun:test"
import { DatabaseLive } from "@scopeline/sql/Database"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { StartupError } from "@scopeline/settings/StartupError"
import { Cause, Effect, Exit, Layer } from "effect"
import { createServer, type Server } from "node:net"
import { configLayer, testSettings } from "../support/config.ts"

const servers: Array<Server> = []
afterAll(() => {
  for (const server of servers) server.close()
})

/** A TCP port that accepts connections and never says a word, as a firewall that drops packets looks. */
const silentPort = async (): Promise<number> => {
  const server = createServer(() => {})
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return (server.address() as { port: number }).port
}

/** A port nothing listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** What starting the database layer against `url` ends with. */
const start = (url: string) => {
  const layer = DatabaseLive.pipe(Layer.provide(AppConfig.Default), Layer.provide(configLayer(testSettings({ DATABASE_URL: url }))))
  return Effect.runPromiseExit(Effect.scoped(Layer.build(layer).pipe(Effect.asVoid)))
}

const startupMessage = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) throw new Error("the database layer started")
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "None" || !(failure.value instanceof StartupError)) throw new Error(`not a StartupError: ${Cause.pretty(exit.cause)}`)
  return failure.value.message
}

test("a database that refuses the connection stops start-up with one line naming its address, not the password", async () => {
  const port = await closedPort()
  const exit = await start(`postgres://scopeline:s3cret-password@127.0.0.1:${port}/scopeline`)
  const message = startupMessage(exit)
  expect(message).toStartWith(`database: cannot connect to 127.0.0.1:${port}:`)
  expect(message).toContain("DATABASE_URL")
  expect(message).not.toContain("s3cret-password")
  expect(message).not.toContain("\n")
})

test("a database that never answers stops start-up after the connect timeout instead of hanging", async () => {
  const port = await silentPort()
  // Without the timeout, start-up waits for ever and the test's own 30 s limit fails it.
  const exit = await start(`postgres://scopeline:s3cret-password@127.0.0.1:${port}/scopeline`)
  expect(startupMessage(exit)).toStartWith(`database: no answer from 127.0.0.1:${port} within 5s`)
}, 30_000)
