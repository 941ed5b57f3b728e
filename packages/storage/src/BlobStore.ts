import { Context, Data, type Effect, type Option } from "effect"
import type { Readable } from "node:stream"

/** Where and how a browser uploads one file directly to the store. */
export interface UploadTarget {
  readonly url: string
  /** PUT with the body as the file, or POST as multipart/form-data with `fields` then the file. */
  readonly method: "PUT" | "POST"
  readonly headers: Readonly<Record<string, string>>
  readonly fields?: Readonly<Record<string, string>>
  readonly expiresAt: Date
  readonly maxBytes: number
}

export interface UploadTargetOptions {
  readonly maxBytes: number
  readonly expiresInSeconds: number
  readonly contentType: string
}

export interface BlobInfo {
  readonly key: string
  readonly size: number
}

export class BlobStoreError extends Data.TaggedError("BlobStoreError")<{
  readonly operation: string
  readonly key: string
  readonly cause: unknown
}> {}

export class BlobNotFound extends Data.TaggedError("BlobNotFound")<{ readonly key: string }> {}

/**
 * Uploaded files. The local filesystem implementation (embedded mode) and S3 (AWS mode) keep the
 * same semantics: signed, expiring, size-limited upload targets; objects read back as streams.
 */
export class BlobStore extends Context.Tag("scopeline/BlobStore")<
  BlobStore,
  {
    readonly createUploadTarget: (key: string, options: UploadTargetOptions) => Effect.Effect<UploadTarget, BlobStoreError>
    /** The object's size, or None when nothing (complete) is stored under the key. */
    readonly head: (key: string) => Effect.Effect<Option.Option<BlobInfo>, BlobStoreError>
    /** A Node readable of the object's bytes; the caller consumes or destroys it. */
    readonly read: (key: string) => Effect.Effect<Readable, BlobNotFound | BlobStoreError>
    readonly remove: (key: string) => Effect.Effect<void, BlobStoreError>
    /**
     * The key an upload URL this store issued points at (POST /v1/upload {presigned_url}); None if foreign.
     * `requestOrigin` is where the client reached the server, which path-only local URLs are relative to.
     */
    readonly keyOfUrl: (url: string, requestOrigin: string) => Option.Option<string>
  }
>() {}
