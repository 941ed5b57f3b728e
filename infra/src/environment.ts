import * as pulumi from "@pulumi/pulumi"
import type { SettingName } from "@scopeline/settings/Settings"
import { appPort } from "./config.ts"

/**
 * The contract between this stack and the app's settings (packages/settings/src/Settings.ts): every
 * variable below is named by the declaration's `SettingName`, so a name the app does not read is a type
 * error, and test/infra checks that every setting without a safe AWS default is given here.
 *
 * Generic over the value type: the stack passes Pulumi inputs; the AWS-mode test passes plain strings
 * (fauxqs' queue URLs, …) and runs the real apps with exactly this environment.
 */
export interface AppEnvironmentArgs<V> {
  readonly bucketName: V
  readonly region: V
  readonly parseQueueUrl: V
  readonly matchQueueUrl: V
  readonly parseDeadLetterQueueUrl: V
  readonly matchDeadLetterQueueUrl: V
  readonly exportQueueUrl: V
  readonly exportDeadLetterQueueUrl: V
  /** The queues' redrive maxReceiveCount: the app must know which delivery is the last. */
  readonly maxReceiveCount: number
  readonly userPoolId: V
  readonly userPoolClientId: V
  readonly matcherUrl: V
  readonly publicUrl: V
  readonly databaseHost: V
  readonly databasePort: V
  readonly databaseName: V
  /** The tenant: every audit event says which environment it happened in. */
  readonly environmentName: V
}

export interface AppSecretsArgs {
  /** The Aurora-managed master secret: JSON with `username` and `password`. */
  readonly databaseSecretArn: pulumi.Input<string>
  readonly matcherApiKeySecretArn?: pulumi.Input<string>
}

export interface ContainerVariable<V = pulumi.Input<string>> {
  readonly name: SettingName
  readonly value: V | string
}

export interface ContainerSecret {
  readonly name: SettingName
  readonly valueFrom: pulumi.Input<string>
}

export function appEnvironment<V>(args: AppEnvironmentArgs<V>): ContainerVariable<V>[] {
  return [
    { name: "PORT", value: String(appPort) },
    { name: "BLOB_STORE", value: "s3" },
    { name: "S3_BUCKET", value: args.bucketName },
    { name: "AWS_REGION", value: args.region },
    { name: "QUEUE", value: "sqs" },
    { name: "SQS_PARSE_QUEUE_URL", value: args.parseQueueUrl },
    { name: "SQS_MATCH_QUEUE_URL", value: args.matchQueueUrl },
    // The ops page lists and replays dead letters, and the match job knows its last delivery from them.
    { name: "SQS_PARSE_DLQ_URL", value: args.parseDeadLetterQueueUrl },
    { name: "SQS_MATCH_DLQ_URL", value: args.matchDeadLetterQueueUrl },
    { name: "SQS_EXPORT_QUEUE_URL", value: args.exportQueueUrl },
    { name: "SQS_EXPORT_DLQ_URL", value: args.exportDeadLetterQueueUrl },
    // SQS moves a message to its DLQ after maxReceiveCount receives without telling the consumer; the
    // app must count the same, or the last-attempt handling (upload failed, activities failed) never runs.
    { name: "QUEUE_MAX_RECEIVES", value: String(args.maxReceiveCount) },
    { name: "AUTH", value: "cognito" },
    { name: "COGNITO_USER_POOL_ID", value: args.userPoolId },
    { name: "COGNITO_CLIENT_ID", value: args.userPoolClientId },
    { name: "COGNITO_REGION", value: args.region },
    { name: "MATCHER_URL", value: args.matcherUrl },
    { name: "PUBLIC_URL", value: args.publicUrl },
    // Only the load balancer reaches the server (its security group), and it sets X-Forwarded-For.
    { name: "TRUSTED_PROXY", value: "true" },
    { name: "LOG_LEVEL", value: "Info" },
    { name: "SCOPELINE_ENVIRONMENT", value: args.environmentName },
    // Webhooks must not reach into the VPC, the metadata service or the task itself.
    { name: "WEBHOOK_TARGETS", value: "public" },
    // The database arrives as libpq-style variables rather than one DATABASE_URL: the password lives only
    // in the RDS-managed secret, and ECS can inject single JSON keys of it but cannot splice them into a URL.
    { name: "PGHOST", value: args.databaseHost },
    { name: "PGPORT", value: args.databasePort },
    { name: "PGDATABASE", value: args.databaseName },
    // Traffic to Aurora leaves the task; encrypt it.
    { name: "PGSSLMODE", value: "require" },
  ]
}

/** The queues a worker process consumes (the worker's WORKER_QUEUES; the app's default is both). */
export type WorkerQueue = "parse" | "match" | "export"

export function workerQueues(queues: readonly WorkerQueue[]): ContainerVariable<never> {
  return { name: "WORKER_QUEUES", value: queues.join(",") }
}

export function appSecrets(args: AppSecretsArgs): ContainerSecret[] {
  const secrets: ContainerSecret[] = [
    // ECS syntax `<secret-arn>:<json-key>:<version-stage>:<version-id>`; empty stage/id = AWSCURRENT.
    { name: "PGUSER", valueFrom: pulumi.interpolate`${args.databaseSecretArn}:username::` },
    { name: "PGPASSWORD", valueFrom: pulumi.interpolate`${args.databaseSecretArn}:password::` },
  ]
  if (args.matcherApiKeySecretArn) {
    secrets.push({ name: "MATCHER_API_KEY", valueFrom: args.matcherApiKeySecretArn })
  }
  return secrets
}
