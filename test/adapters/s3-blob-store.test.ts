import { BlobStore, type UploadTarget } from "@scopeline/storage/BlobStore"
import { S3BlobStoreLive } from "@scopeline/storage/S3BlobStore"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { startFauxqs, type FauxqsServer } from "fauxqs"
import { Readable } from "node:stream"
import { configLayer } from "../support/config.ts"

// fauxqs speaks the S3 protocol but checks neither signatures, expiry nor POST policy conditions:
// these tests prove what we send and how we read S3's answers, not that S3 enforces the policy
// (the policy itself is decoded and inspected below instead).
const BUCKET = "scopeline-uploads"
const KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
let server: FauxqsServer

const settings = (extra: Record<string, string> = {}) => ({
  S3_BUCKET: BUCKET,
  AWS_REGION: "us-east-1",
  S3_ENDPOINT: server.address,
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
  ...extra,
})

const runtimeWith = (extra: Record<string, string> = {}) =>
  ManagedRuntime.make(S3BlobStoreLive.pipe(Layer.provide(configLayer(settings(extra)))))

let runtime: ReturnType<typeof runtimeWith>
const withStore = <A, E>(f: (store: BlobStore["Type"]) => Effect.Effect<A, E>) =>
  runtime.runPromise(Effect.flatMap(BlobStore, f))

const upload = async (target: UploadTarget, bytes: Uint8Array) => {
  const form = new FormData()
  for (const [name, value] of Object.entries(target.fields ?? {})) form.append(name, value)
  // S3 ignores every field after `file`, so it goes last.
  form.append("file", new Blob([Buffer.from(bytes)]), "activities.csv")
  return fetch(target.url, { method: target.method, headers: target.headers, body: form })
}

const readAll = async (stream: Readable) => {
  const chunks: Array<Buffer> = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

const policyOf = (target: UploadTarget) => {
  const encoded = target.fields?.Policy
  if (!encoded) throw new Error("the target has no POST policy")
  return JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
    expiration: string
    conditions: Array<unknown>
  }
}

const csv = (rows: number) =>
  new TextEncoder().encode(
    ["description,volume,unit", ...Array.from({ length: rows }, (_, i) => `diesel ${i},${i + 1},litre`)].join("\n"),
  )

beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false })
  server.createBucket(BUCKET)
  runtime = runtimeWith()
})
afterAll(async () => {
  await runtime?.dispose()
  await server?.stop()
})

describe("S3BlobStore against an S3 protocol server", () => {
  test("a browser-style multipart POST to the upload target stores the file under the fixed key", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    const bytes = csv(20)
    const target = await withStore((s) =>
      s.createUploadTarget(key, { maxBytes: 1_000_000, expiresInSeconds: 300, contentType: "text/csv" }),
    )
    expect(target.method).toBe("POST")
    expect(target.fields?.key).toBe(key)
    expect(target.fields?.["Content-Type"]).toBe("text/csv")
    expect(target.maxBytes).toBe(1_000_000)

    const response = await upload(target, bytes)
    expect(response.status).toBe(204)

    const info = await withStore((s) => s.head(key))
    expect(info).toEqual(Option.some({ key, size: bytes.byteLength }))
  })

  test("the POST policy pins the key, the content type and a 1..maxBytes length range, and expires on time", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    const before = Date.now()
    const target = await withStore((s) =>
      s.createUploadTarget(key, { maxBytes: 4096, expiresInSeconds: 120, contentType: "text/csv" }),
    )
    const policy = policyOf(target)
    expect(policy.conditions).toContainEqual(["content-length-range", 1, 4096])
    expect(policy.conditions).toContainEqual({ key })
    expect(policy.conditions).toContainEqual({ "Content-Type": "text/csv" })
    expect(policy.conditions).toContainEqual({ bucket: BUCKET })
    const expiration = Date.parse(policy.expiration)
    // The policy's expiration is written in whole seconds, and was seen 118.997 s after `before`
    // (the presigner's clock is not ours to the millisecond): the bound leaves 2 s.
    expect(expiration).toBeGreaterThanOrEqual(before + 118_000)
    expect(expiration).toBeLessThanOrEqual(Date.now() + 121_000)
    expect(Math.abs(target.expiresAt.getTime() - expiration)).toBeLessThan(2_000)
    // No encryption requirement unless a KMS key is configured.
    expect(target.fields?.["x-amz-server-side-encryption"]).toBeUndefined()
  })

  test("with S3_KMS_KEY_ID the upload must carry SSE-KMS with that key", async () => {
    const kms = runtimeWith({ S3_KMS_KEY_ID: KMS_KEY })
    try {
      const key = `uploads/${crypto.randomUUID()}.csv`
      const target = await kms.runPromise(
        Effect.flatMap(BlobStore, (s) =>
          s.createUploadTarget(key, { maxBytes: 4096, expiresInSeconds: 60, contentType: "text/csv" }),
        ),
      )
      expect(target.fields?.["x-amz-server-side-encryption"]).toBe("aws:kms")
      expect(target.fields?.["x-amz-server-side-encryption-aws-kms-key-id"]).toBe(KMS_KEY)
      const policy = policyOf(target)
      expect(policy.conditions).toContainEqual({ "x-amz-server-side-encryption": "aws:kms" })
      expect(policy.conditions).toContainEqual({ "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY })
      expect((await upload(target, csv(1))).status).toBe(204)
    } finally {
      await kms.dispose()
    }
  })

  test("reads an object back as a Node Readable that streams exactly the uploaded bytes", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    // Large enough to arrive in several chunks.
    const bytes = csv(50_000)
    const target = await withStore((s) =>
      s.createUploadTarget(key, { maxBytes: 10_000_000, expiresInSeconds: 300, contentType: "text/csv" }),
    )
    expect((await upload(target, bytes)).status).toBe(204)

    const stream = await withStore((s) => s.read(key))
    expect(stream).toBeInstanceOf(Readable)
    const read = await readAll(stream)
    expect(read.byteLength).toBe(bytes.byteLength)
    expect(read.equals(Buffer.from(bytes))).toBe(true)
  })

  test("a missing key is None for head and BlobNotFound for read", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    expect(await withStore((s) => s.head(key))).toEqual(Option.none())
    const error = await withStore((s) => Effect.flip(s.read(key)))
    expect(error._tag).toBe("BlobNotFound")
    expect(error).toMatchObject({ key })
  })

  test("remove deletes the object and is idempotent", async () => {
    const key = `uploads/${crypto.randomUUID()}.csv`
    const target = await withStore((s) =>
      s.createUploadTarget(key, { maxBytes: 4096, expiresInSeconds: 60, contentType: "text/csv" }),
    )
    expect((await upload(target, csv(2))).status).toBe(204)
    await withStore((s) => s.remove(key))
    expect(await withStore((s) => s.head(key))).toEqual(Option.none())
    await withStore((s) => s.remove(key))
  })

  test("a missing bucket surfaces as BlobStoreError, not as a missing object", async () => {
    const other = runtimeWith({ S3_BUCKET: "no-such-bucket" })
    try {
      const error = await other.runPromise(Effect.flatMap(BlobStore, (s) => Effect.flip(s.read("x.csv"))))
      expect(error._tag).toBe("BlobStoreError")
    } finally {
      await other.dispose()
    }
  })
})

describe("keyOfUrl", () => {
  // S3 URLs are absolute: where the client reached the server plays no part.
  const keyOf = (url: string) => runtime.runSync(Effect.map(BlobStore, (s) => s.keyOfUrl(url, "http://scopeline.example")))
  const key = "uploads/2026/a b+c.csv"
  const encoded = "uploads/2026/a%20b%2Bc.csv"

  test("round-trips the object URL of this bucket on the configured endpoint (path style, with or without query)", () => {
    expect(keyOf(`${server.address}/${BUCKET}/${encoded}`)).toEqual(Option.some(key))
    expect(keyOf(`${server.address}/${BUCKET}/${encoded}?X-Amz-Signature=abc&X-Amz-Expires=60`)).toEqual(
      Option.some(key),
    )
  })

  test("accepts the AWS virtual-host, regional path-style and s3:// forms of this bucket", () => {
    expect(keyOf(`https://${BUCKET}.s3.amazonaws.com/${encoded}`)).toEqual(Option.some(key))
    expect(keyOf(`https://${BUCKET}.s3.us-east-1.amazonaws.com/${encoded}?versionId=1`)).toEqual(Option.some(key))
    expect(keyOf(`https://s3.us-east-1.amazonaws.com/${BUCKET}/${encoded}`)).toEqual(Option.some(key))
    expect(keyOf(`s3://${BUCKET}/${encoded}`)).toEqual(Option.some(key))
  })

  test("rejects other buckets, other regions, other hosts, plain http to AWS and bucket URLs without a key", () => {
    for (const url of [
      `https://other-bucket.s3.amazonaws.com/${encoded}`,
      `https://s3.us-east-1.amazonaws.com/other-bucket/${encoded}`,
      `https://${BUCKET}.s3.eu-west-1.amazonaws.com/${encoded}`,
      `https://${BUCKET}.s3.amazonaws.com.evil.example/${encoded}`,
      `https://evil.example/${BUCKET}/${encoded}`,
      `http://${BUCKET}.s3.amazonaws.com/${encoded}`,
      `https://${BUCKET}.s3.amazonaws.com/`,
      `${server.address}/${BUCKET}`,
      `${server.address}/${BUCKET}/`,
      `s3://other-bucket/${encoded}`,
      "not a url",
      `${server.address}/${BUCKET}/%E0%A4%A`,
    ]) {
      expect({ url, key: keyOf(url) }).toEqual({ url, key: Option.none() })
    }
  })
})
