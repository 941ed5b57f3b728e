import { describe, expect, test } from "bun:test"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { LocalBlobStoreLive, LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { Effect, Either, Layer, ManagedRuntime, Option } from "effect"
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { configLayer } from "../support/config.ts"

const dataDir = mkdtempSync(join(tmpdir(), "scopeline-blobs-"))
const runtime = ManagedRuntime.make(
  LocalBlobStoreLive.pipe(Layer.provideMerge(AppConfig.Default), Layer.provide(configLayer({ DATA_DIR: dataDir }))),
)

/** A request body that sends some bytes and then breaks, as a client's dropped connection does. */
const interrupted = () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("description,quantity,unit,date\n"))
      controller.error(new Error("The connection was closed."))
    },
  })

describe("local blob store", () => {
  test("a client that drops the connection mid-upload is an interrupted upload, not a store failure, and the link stays usable", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    const result = await runtime.runPromise(
      Effect.gen(function* () {
        const store = yield* BlobStore
        const uploads = yield* LocalBlobUploads
        const target = yield* store.createUploadTarget(key, { expiresInSeconds: 60, maxBytes: 1_000, contentType: "text/csv" })
        const params = yield* uploads.verify(key, new URL(target.url, "http://localhost").searchParams)
        const first = yield* Effect.either(uploads.write(params, interrupted()))
        const afterFailure = yield* store.head(key)
        const second = yield* uploads.write(params, new Response("description,quantity,unit,date\nDiesel,1,L,2024-01-01\n").body!)
        return { first, afterFailure, second }
      }),
    )
    expect(Either.isLeft(result.first) && result.first.left._tag === "UploadRejected" && result.first.left.reason).toBe("aborted")
    expect(Option.isNone(result.afterFailure)).toBe(true)
    expect(result.second.size).toBeGreaterThan(0)
    expect(readdirSync(join(dataDir, "blobs", ".partial"))).toEqual([])
  })
})
