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

export interface DownloadUrlOptions {
  readonly expiresInSeconds: number
  /** The name the browser saves the file as (Content-Disposition: attachment). */
  readonly filename: string
}

export interface DownloadUrl {
  readonly url: string
  readonly expiresAt: Date
}

export interface BlobInfo {
  readonly key: string
  readonly size: number
}

export class BlobStoreError extends Data.TaggedError("BlobStoreError")<{
  readonly operation: string
  readonly key: string
  readonly cause: unknown
}> {
  // What an operator reads in a log line, a dead letter or an audit event: the operation, the key and why.
  override get message() {
    const why = this.cause instanceof Error ? this.cause.message : String(this.cause)
    return `could not ${this.operation} ${this.key}: ${why}`
  }
}

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
     * Stores a stream the server produces (an export) under the key, replacing what was there; the
     * object appears only once complete. Memory stays bounded whatever the size.
     */
    readonly write: (key: string, body: Readable, contentType: string) => Effect.Effect<BlobInfo, BlobStoreError>
    /** A signed, short-lived URL that downloads the object as an attachment; no session needed, as with S3. */
    readonly createDownloadUrl: (key: string, options: DownloadUrlOptions) => Effect.Effect<DownloadUrl, BlobStoreError>
    /**
     * The key an upload URL this store issued points at (POST /v1/upload {presigned_url}); None if foreign.
     * `requestOrigin` is where the client reached the server, which path-only local URLs are relative to.
     */
    readonly keyOfUrl: (url: string, requestOrigin: string) => Option.Option<string>
  }
>() {}
