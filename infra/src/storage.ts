import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { policyDocument } from "./policy.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

/** Object-key prefixes shared with the app's BlobStore: presigned uploads land in `pending/`, kept files in `uploads/`. */
export const pendingPrefix = "pending/"
export const uploadsPrefix = "uploads/"
/** Export files the worker writes; downloaded through short-lived presigned GETs. */
export const exportsPrefix = "exports/"

export interface UploadsBucket {
  readonly bucket: aws.s3.Bucket
}

export interface UploadsBucketArgs {
  readonly key: aws.kms.Key
  readonly parseQueue: aws.sqs.Queue
  /** The origin browsers upload from (CORS). */
  readonly appOrigin: pulumi.Input<string>
  readonly fileRetentionDays: number
  readonly noncurrentVersionDays: number
}

export function createUploadsBucket(scope: Scope, args: UploadsBucketArgs): UploadsBucket {
  const opts = childOptions(scope)
  const bucket = new aws.s3.Bucket(
    `${scope.name}-uploads`,
    {
      // Bucket names are global across all AWS accounts: the account id makes the name unclaimable by others.
      bucket: pulumi.interpolate`${physicalName(scope, "uploads")}-${scope.accountId}`,
      // A stack destroy must not silently delete customers' files; empty the bucket deliberately first.
      forceDestroy: false,
      tags: scope.tags,
    },
    opts,
  )
  const bucketOpts = { ...opts, dependsOn: [bucket] }

  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${scope.name}-uploads-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    bucketOpts,
  )
  new aws.s3.BucketOwnershipControls(
    `${scope.name}-uploads-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    bucketOpts,
  )
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${scope.name}-uploads-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.key.arn },
          // One data key per bucket instead of per object: far fewer KMS calls (cost, throttling).
          bucketKeyEnabled: true,
        },
      ],
    },
    bucketOpts,
  )
  const versioning = new aws.s3.BucketVersioning(
    `${scope.name}-uploads-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    bucketOpts,
  )
  new aws.s3.BucketPolicy(
    `${scope.name}-uploads-policy`,
    {
      bucket: bucket.id,
      policy: policyDocument({
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    },
    // The public-access block must exist first or S3 may evaluate the policy against the old settings.
    { ...opts, dependsOn: [publicAccess] },
  )
  new aws.s3.BucketLifecycleConfiguration(
    `${scope.name}-uploads-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "bucket-hygiene",
          status: "Enabled",
          filter: {},
          // Abandoned multipart uploads are invisible but billed.
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          expiration: { expiredObjectDeleteMarker: true },
          noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
        },
        {
          // Presigned uploads that were never confirmed.
          id: "expire-pending",
          status: "Enabled",
          filter: { prefix: pendingPrefix },
          expiration: { days: 1 },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          // Export files are copies for download, made again on request: a week is plenty.
          id: "expire-exports",
          status: "Enabled",
          filter: { prefix: exportsPrefix },
          expiration: { days: 7 },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          id: "expire-uploads",
          status: "Enabled",
          filter: { prefix: uploadsPrefix },
          expiration: { days: args.fileRetentionDays },
          noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
        },
      ],
    },
    // Lifecycle rules on noncurrent versions need versioning switched on first.
    { ...opts, dependsOn: [versioning] },
  )
  new aws.s3.BucketCorsConfiguration(
    `${scope.name}-uploads-cors`,
    {
      bucket: bucket.id,
      corsRules: [
        {
          // Browsers upload straight to S3 with presigned PUT or POST; nothing else crosses origins.
          allowedMethods: ["PUT", "POST"],
          allowedOrigins: [args.appOrigin],
          allowedHeaders: ["content-type", "content-md5", "x-amz-*"],
          exposeHeaders: ["ETag"],
          maxAgeSeconds: 3000,
        },
      ],
    },
    bucketOpts,
  )

  const queuePolicy = new aws.sqs.QueuePolicy(
    `${scope.name}-parse-queue-policy`,
    {
      queueUrl: args.parseQueue.url,
      policy: policyDocument({
        Sid: "AllowUploadsBucketEvents",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: args.parseQueue.arn,
        // Only this tenant's bucket, in this account, may send.
        Condition: {
          ArnEquals: { "aws:SourceArn": bucket.arn },
          StringEquals: { "aws:SourceAccount": scope.accountId },
        },
      }),
    },
    opts,
  )
  // A lost "upload confirmed" request must not strand a file: S3 tells the parse queue as well, and the
  // worker treats the two signals idempotently.
  new aws.s3.BucketNotification(
    `${scope.name}-uploads-notification`,
    {
      bucket: bucket.id,
      queues: [{ queueArn: args.parseQueue.arn, events: ["s3:ObjectCreated:*"], filterPrefix: uploadsPrefix }],
    },
    // S3 checks it may send to the queue when the notification is saved.
    { ...opts, dependsOn: [queuePolicy] },
  )

  return { bucket }
}
