import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3"
import { createPresignedPost } from "@aws-sdk/s3-presigned-post"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { AwsConfig, awsClientOptions } from "@scopeline/settings/AwsConfig"
import { Config, Effect, Layer, Option } from "effect"
import { createReadStream, createWriteStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { BlobNotFound, BlobStore, BlobStoreError, type DownloadUrlOptions, type UploadTargetOptions } from "./BlobStore.ts"

/**
 * AWS mode's BlobStore. Settings (env vars of the same name):
 * - `S3_BUCKET` (required), `AWS_REGION` (default us-east-1)
 * - `S3_ENDPOINT`: an S3-compatible endpoint (fauxqs, MinIO); implies path-style addressing
 * - `S3_KMS_KEY_ID`: when set, uploads must be encrypted with this KMS key (SSE-KMS)
 * - `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`: optional static credentials.
 *   Read through Config (the same env vars the SDK's chain would read) so tests stay hermetic; when
 *   absent the SDK's default chain applies (ECS task role, instance profile, SSO, …).
 */
export const S3BlobStoreConfig = Config.all({
  aws: AwsConfig,
  bucket: Config.nonEmptyString("S3_BUCKET"),
  endpoint: Config.option(Config.url("S3_ENDPOINT")),
  kmsKeyId: Config.option(Config.nonEmptyString("S3_KMS_KEY_ID")),
})
export type S3BlobStoreConfig = Config.Config.Success<typeof S3BlobStoreConfig>

const isMissing = (error: unknown) =>
  error instanceof NotFound ||
  error instanceof NoSuchKey ||
  (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404 && error.name !== "NoSuchBucket")

const stripSlash = (s: string) => s.replace(/\/+$/, "")

/** Decodes a URL path into an S3 key; None when it is empty or not valid percent-encoding. */
const decodeKey = (encoded: string): Option.Option<string> => {
  if (encoded.length === 0) return Option.none()
  try {
    return Option.some(decodeURIComponent(encoded))
  } catch {
    return Option.none()
  }
}

/**
 * The key of an object URL of `bucket`: `s3://bucket/key`, virtual-host (`https://bucket.s3.<region>.amazonaws.com/key`)
 * or path style (`https://s3.<region>.amazonaws.com/bucket/key`), and with S3_ENDPOINT the same two forms on
 * that endpoint. Query strings (presigned GET parameters) are ignored. Anything else is foreign.
 */
export const makeKeyOfUrl =
  (config: Pick<S3BlobStoreConfig, "bucket" | "endpoint"> & { readonly region: string }) =>
  (raw: string): Option.Option<string> => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return Option.none()
    }
    const { bucket, region } = config
    if (url.protocol === "s3:") return url.hostname === bucket ? decodeKey(url.pathname.slice(1)) : Option.none()

    // Each base: where path-style URLs start, and the host virtual-host URLs prefix with the bucket.
    const bases: Array<{ readonly origin: string; readonly host: string; readonly pathPrefix: string }> = [
      "s3.amazonaws.com",
      `s3.${region}.amazonaws.com`,
      `s3-${region}.amazonaws.com`,
      `s3.dualstack.${region}.amazonaws.com`,
    ].map((host) => ({ origin: `https://${host}`, host, pathPrefix: "" }))
    if (Option.isSome(config.endpoint)) {
      const endpoint = config.endpoint.value
      bases.push({ origin: endpoint.origin, host: endpoint.host, pathPrefix: stripSlash(endpoint.pathname) })
    }

    for (const base of bases) {
      const protocol = new URL(base.origin).protocol
      if (url.protocol !== protocol) continue
      const pathStyle = `${base.pathPrefix}/${bucket}/`
      if (url.host === base.host && url.pathname.startsWith(pathStyle)) {
        return decodeKey(url.pathname.slice(pathStyle.length))
      }
      if (url.host === `${bucket}.${base.host}` && url.pathname.startsWith(`${base.pathPrefix}/`)) {
        return decodeKey(url.pathname.slice(base.pathPrefix.length + 1))
      }
    }
    return Option.none()
  }

export const makeS3Client = (config: S3BlobStoreConfig) =>
  new S3Client({
    // Socket silence, not a slow download, is what times out.
    ...awsClientOptions(config.aws, 60_000),
    ...(Option.isSome(config.endpoint)
      ? // Compatible servers rarely have wildcard DNS for virtual-host buckets.
        { endpoint: stripSlash(config.endpoint.value.toString()), forcePathStyle: true }
      : {}),
  })

/** Builds the service from already-read settings (the layer below reads them from Config). */
export const makeS3BlobStore = (config: S3BlobStoreConfig, client: S3Client) => {
  const { bucket } = config
  const fail = (operation: string, key: string) => (cause: unknown) => new BlobStoreError({ operation, key, cause })

  const createUploadTarget = Effect.fn("S3BlobStore.createUploadTarget")(function* (
    key: string,
    options: UploadTargetOptions,
  ) {
    const expiresAt = new Date(Date.now() + options.expiresInSeconds * 1000)
    // Every field is also an exact-match policy condition (createPresignedPost adds them), so the
    // browser cannot change the content type or drop the encryption headers. The length range makes
    // S3 itself reject oversized (and empty) files: no trust in the client's claimed size.
    const fields: Record<string, string> = {
      "Content-Type": options.contentType,
      ...Option.match(config.kmsKeyId, {
        onNone: () => ({}),
        onSome: (kmsKeyId) => ({
          "x-amz-server-side-encryption": "aws:kms",
          "x-amz-server-side-encryption-aws-kms-key-id": kmsKeyId,
        }),
      }),
    }
    const post = yield* Effect.tryPromise({
      try: () =>
        createPresignedPost(client, {
          Bucket: bucket,
          Key: key,
          Expires: options.expiresInSeconds,
          Fields: fields,
          Conditions: [["content-length-range", 1, options.maxBytes]],
        }),
      catch: fail("createUploadTarget", key),
    })
    return {
      url: post.url,
      method: "POST" as const,
      headers: {},
      fields: post.fields,
      expiresAt,
      maxBytes: options.maxBytes,
    }
  })

  const head = Effect.fn("S3BlobStore.head")(function* (key: string) {
    return yield* Effect.tryPromise({
      try: (signal) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      catch: (cause) => cause,
    }).pipe(
      Effect.map((out) => Option.some({ key, size: out.ContentLength ?? 0 })),
      Effect.catchIf(isMissing, () => Effect.succeed(Option.none())),
      Effect.mapError(fail("head", key)),
    )
  })

  const read = Effect.fn("S3BlobStore.read")(function* (key: string) {
    const out = yield* Effect.tryPromise({
      try: (signal) => client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      catch: (cause) => (isMissing(cause) ? new BlobNotFound({ key }) : fail("read", key)(cause)),
    })
    // Under Node and Bun the SDK's Node HTTP handler returns the IncomingMessage itself: a Readable
    // (verified in test/adapters/s3-blob-store.test.ts). Anything else means a browser-style runtime.
    if (out.Body instanceof Readable) return out.Body
    if (out.Body === undefined) return yield* new BlobNotFound({ key })
    return yield* fail("read", key)(new Error("GetObject returned a body that is not a Node Readable"))
  })

  const remove = Effect.fn("S3BlobStore.remove")(function* (key: string) {
    yield* Effect.tryPromise({
      try: (signal) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      catch: fail("remove", key),
    })
  })

  // Spooled to a temporary file, then one PutObject with its length: S3 needs the length of a
  // streamed body up front, and the spool keeps memory flat where buffering would not.
  const write = Effect.fn("S3BlobStore.write")(function* (key: string, body: Readable, contentType: string) {
    const dir = yield* Effect.tryPromise({ try: () => mkdtemp(join(tmpdir(), "scopeline-spool-")), catch: fail("write", key) })
    return yield* Effect.gen(function* () {
      const spool = join(dir, "body")
      yield* Effect.tryPromise({ try: () => pipeline(body, createWriteStream(spool)), catch: fail("write", key) })
      const { size } = yield* Effect.tryPromise({ try: () => stat(spool), catch: fail("write", key) })
      yield* Effect.tryPromise({
        try: (signal) =>
          client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: createReadStream(spool),
              ContentLength: size,
              ContentType: contentType,
              ...Option.match(config.kmsKeyId, {
                onNone: () => ({}),
                onSome: (kmsKeyId) => ({ ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: kmsKeyId }),
              }),
            }),
            { abortSignal: signal },
          ),
        catch: fail("write", key),
      })
      return { key, size }
    }).pipe(Effect.ensuring(Effect.promise(() => rm(dir, { recursive: true, force: true }))))
  })

  const createDownloadUrl = Effect.fn("S3BlobStore.createDownloadUrl")(function* (key: string, options: DownloadUrlOptions) {
    const url = yield* Effect.tryPromise({
      try: () =>
        getSignedUrl(
          client,
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ResponseContentDisposition: `attachment; filename="${options.filename.replace(/["\\]/g, "_")}"`,
          }),
          { expiresIn: options.expiresInSeconds },
        ),
      catch: fail("createDownloadUrl", key),
    })
    return { url, expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000) }
  })

  return BlobStore.of({
    createUploadTarget,
    head,
    read,
    remove,
    write,
    createDownloadUrl,
    keyOfUrl: makeKeyOfUrl({ ...config, region: config.aws.region }),
  })
}

/** BlobStore backed by S3 (BLOB_STORE=s3). */
export const S3BlobStoreLive = Layer.scoped(
  BlobStore,
  Effect.gen(function* () {
    const config = yield* S3BlobStoreConfig
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => makeS3Client(config)),
      (client) => Effect.sync(() => client.destroy()),
    )
    return makeS3BlobStore(config, client)
  }),
)
