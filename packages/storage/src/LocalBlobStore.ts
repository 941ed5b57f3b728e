import { AppConfig } from "@scopeline/settings/AppConfig"
import { persistedSecret } from "@scopeline/settings/persistedSecret"
import { Config, Context, Data, Effect, Layer, Option } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { createReadStream, createWriteStream, existsSync, mkdirSync } from "node:fs"
import { link, rename, rm, stat } from "node:fs/promises"
import { dirname, join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { BlobNotFound, BlobStore, BlobStoreError } from "./BlobStore.ts"

export const BLOB_ROUTE = "/blobs/"

export class UploadRejected extends Data.TaggedError("UploadRejected")<{
  /** "aborted": the client went away mid-upload, its mistake or its network's, never the store's. */
  readonly reason: "forbidden" | "too_large" | "exists" | "aborted"
  readonly message: string
}> {}

/** Keys are ours (`uploads/<uuid>.csv`), but the check keeps any key from escaping the folder. */
const isSafeKey = (key: string) =>
  /^[\w][\w./-]*$/.test(key) && !key.split("/").some((segment) => segment === ".." || segment === "")

interface SignedParams {
  readonly key: string
  readonly expires: number
  readonly maxBytes: number
}

/**
 * Receives browser uploads for the local store: the server's `PUT /blobs/<key>` route verifies the
 * signature and expiry, then streams the body to disk under the size limit.
 */
export class LocalBlobUploads extends Context.Tag("scopeline/LocalBlobUploads")<
  LocalBlobUploads,
  {
    readonly verify: (key: string, query: URLSearchParams) => Effect.Effect<SignedParams, UploadRejected>
    /** A download URL's signature and expiry (`GET /blobs/<key>`): the key and the name to save it as. */
    readonly verifyDownload: (
      key: string,
      query: URLSearchParams,
    ) => Effect.Effect<{ readonly key: string; readonly filename: string }, UploadRejected>
    readonly write: (params: SignedParams, body: ReadableStream<Uint8Array>) => Effect.Effect<{ size: number }, UploadRejected | BlobStoreError>
  }
>() {}

class TooLarge extends Error {}
class ClientAborted extends Error {}

/**
 * Files on the local disk (embedded mode). Upload URLs point at the server itself and carry an
 * HMAC over method, key, expiry and size limit: changing any of them invalidates the URL.
 */
export const LocalBlobStoreLive = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* AppConfig
    const root = yield* Config.string("BLOB_DIR").pipe(Config.withDefault(join(config.dataDir, "blobs")))
    const secret = yield* persistedSecret(
      yield* Config.option(Config.redacted("BLOB_SIGNING_SECRET")),
      config.dataDir,
      "blob-signing-secret",
    )
    // Without PUBLIC_URL the URL is path-only; the server resolves it against the address the
    // browser used, so it works behind whatever host name or port the user reached.
    const base = Option.getOrElse(config.publicUrl, () => "")
    const pathOf = (key: string) => join(root, key)
    const partialDir = join(root, ".partial")

    const signature = (params: SignedParams) =>
      createHmac("sha256", secret).update(`PUT\n${params.key}\n${params.expires}\n${params.maxBytes}`).digest("base64url")

    const failure = (operation: string, key: string) => (cause: unknown) => new BlobStoreError({ operation, key, cause })

    // The method is part of what is signed: an upload URL can never serve as a download URL, nor the reverse.
    const downloadSignature = (key: string, expires: number, filename: string) =>
      createHmac("sha256", secret).update(`GET\n${key}\n${expires}\n${filename}`).digest("base64url")
    const sameSignature = (expected: string, given: string) => {
      const a = Buffer.from(expected)
      const b = Buffer.from(given)
      return a.length === b.length && timingSafeEqual(a, b)
    }

    const store = BlobStore.of({
      createUploadTarget: (key, options) =>
        Effect.sync(() => {
          const params = { key, expires: Math.floor(Date.now() / 1000) + options.expiresInSeconds, maxBytes: options.maxBytes }
          const query = new URLSearchParams({
            expires: String(params.expires),
            max: String(params.maxBytes),
            sig: signature(params),
          })
          return {
            url: `${base}${BLOB_ROUTE}${key.split("/").map(encodeURIComponent).join("/")}?${query}`,
            method: "PUT" as const,
            headers: { "content-type": options.contentType },
            expiresAt: new Date(params.expires * 1000),
            maxBytes: options.maxBytes,
          }
        }),
      head: (key) =>
        isSafeKey(key)
          ? Effect.tryPromise({ try: () => stat(pathOf(key)), catch: (e) => e }).pipe(
              Effect.map((s) => Option.some({ key, size: s.size })),
              Effect.catchIf(
                (e) => (e as NodeJS.ErrnoException)?.code === "ENOENT",
                () => Effect.succeed(Option.none()),
              ),
              Effect.mapError(failure("head", key)),
            )
          : Effect.succeed(Option.none()),
      read: (key) =>
        Effect.gen(function* () {
          if (!isSafeKey(key) || !existsSync(pathOf(key))) return yield* new BlobNotFound({ key })
          return createReadStream(pathOf(key), { highWaterMark: 256 * 1024 })
        }),
      remove: (key) =>
        Effect.tryPromise({ try: () => rm(pathOf(key), { force: true }), catch: failure("remove", key) }),
      write: (key, body) =>
        Effect.gen(function* () {
          if (!isSafeKey(key)) return yield* failure("write", key)(new Error("unsafe key"))
          yield* Effect.try({
            try: () => {
              mkdirSync(partialDir, { recursive: true })
              mkdirSync(dirname(pathOf(key)), { recursive: true })
            },
            catch: failure("write", key),
          })
          // Aside first, renamed when complete: a download never sees half a file.
          const partial = join(partialDir, crypto.randomUUID())
          yield* Effect.tryPromise({ try: () => pipeline(body, createWriteStream(partial)), catch: failure("write", key) }).pipe(
            Effect.tapError(() => Effect.promise(() => rm(partial, { force: true }))),
          )
          yield* Effect.tryPromise({ try: () => rename(partial, pathOf(key)), catch: failure("write", key) })
          const written = yield* Effect.tryPromise({ try: () => stat(pathOf(key)), catch: failure("write", key) })
          return { key, size: written.size }
        }),
      createDownloadUrl: (key, options) =>
        Effect.sync(() => {
          const expires = Math.floor(Date.now() / 1000) + options.expiresInSeconds
          const query = new URLSearchParams({
            expires: String(expires),
            filename: options.filename,
            sig: downloadSignature(key, expires, options.filename),
          })
          return {
            url: `${base}${BLOB_ROUTE}${key.split("/").map(encodeURIComponent).join("/")}?${query}`,
            expiresAt: new Date(expires * 1000),
          }
        }),
      keyOfUrl: (url, requestOrigin) => {
        try {
          // Only our own upload URLs: PUBLIC_URL's origin when set, else the one the client reached us at.
          const ours = base === "" ? requestOrigin : new URL(base).origin
          const parsed = new URL(url, ours)
          if (parsed.origin !== ours || !parsed.pathname.startsWith(BLOB_ROUTE)) return Option.none()
          const key = decodeURIComponent(parsed.pathname.slice(BLOB_ROUTE.length))
          return isSafeKey(key) ? Option.some(key) : Option.none()
        } catch {
          return Option.none()
        }
      },
    })

    const forbidden = (message: string) => new UploadRejected({ reason: "forbidden", message })
    const uploads = LocalBlobUploads.of({
      verify: (key, query) =>
        Effect.gen(function* () {
          const expires = Number(query.get("expires"))
          const maxBytes = Number(query.get("max"))
          const given = query.get("sig") ?? ""
          if (!isSafeKey(key) || !Number.isSafeInteger(expires) || !Number.isSafeInteger(maxBytes)) {
            return yield* forbidden("This upload link is not valid.")
          }
          const params = { key, expires, maxBytes }
          const expected = Buffer.from(signature(params))
          const actual = Buffer.from(given)
          if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
            return yield* forbidden("This upload link is not valid.")
          }
          if (expires * 1000 < Date.now()) return yield* forbidden("This upload link has expired. Start the upload again.")
          return params
        }),
      verifyDownload: (key, query) =>
        Effect.gen(function* () {
          const expires = Number(query.get("expires"))
          const filename = query.get("filename") ?? ""
          if (!isSafeKey(key) || !Number.isSafeInteger(expires) || !sameSignature(downloadSignature(key, expires, filename), query.get("sig") ?? "")) {
            return yield* forbidden("This download link is not valid.")
          }
          if (expires * 1000 < Date.now()) return yield* forbidden("This download link has expired. Open the export again for a new one.")
          return { key, filename }
        }),
      write: (params, body) =>
        Effect.gen(function* () {
          const target = pathOf(params.key)
          if (existsSync(target)) {
            return yield* new UploadRejected({ reason: "exists", message: "A file was already uploaded with this link." })
          }
          mkdirSync(partialDir, { recursive: true })
          mkdirSync(dirname(target), { recursive: true })
          // Written aside and renamed into place when complete: readers never see a partial file.
          const partial = join(partialDir, crypto.randomUUID())
          let size = 0
          const limited = Readable.from(
            (async function* () {
              const reader = body.getReader()
              while (true) {
                const { done, value: chunk } = await reader.read().catch(() => {
                  throw new ClientAborted()
                })
                if (done) return
                size += chunk.byteLength
                if (size > params.maxBytes) throw new TooLarge()
                yield chunk
              }
            })(),
          )
          yield* Effect.tryPromise({
            try: () => pipeline(limited, createWriteStream(partial)),
            catch: (cause) =>
              cause instanceof TooLarge
                ? new UploadRejected({
                    reason: "too_large",
                    message: `The file is larger than the ${params.maxBytes} bytes allowed for this upload.`,
                  })
                : cause instanceof ClientAborted
                  ? new UploadRejected({ reason: "aborted", message: "The upload was interrupted before the file was complete." })
                  : new BlobStoreError({ operation: "write", key: params.key, cause }),
          }).pipe(Effect.tapError(() => Effect.promise(() => rm(partial, { force: true }))))
          // link() refuses an existing target, so of two uploads racing on one URL exactly one wins.
          yield* Effect.tryPromise({
            try: () => link(partial, target),
            catch: (cause) =>
              (cause as NodeJS.ErrnoException)?.code === "EEXIST"
                ? new UploadRejected({ reason: "exists", message: "A file was already uploaded with this link." })
                : new BlobStoreError({ operation: "write", key: params.key, cause }),
          }).pipe(Effect.ensuring(Effect.promise(() => rm(partial, { force: true }))))
          return { size }
        }),
    })

    return Layer.merge(Layer.succeed(BlobStore, store), Layer.succeed(LocalBlobUploads, uploads))
  }),
)
