import * as pulumi from "@pulumi/pulumi"
import { appPort } from "./config.ts"

/**
 * The contract between this stack and the app's typed config (packages/settings): the names below are what
 * the server and worker read in AWS mode. Renaming one here means changing the app in the same change.
 */
export interface AppEnvironmentArgs {
  readonly bucketName: pulumi.Input<string>
  readonly region: pulumi.Input<string>
  readonly parseQueueUrl: pulumi.Input<string>
  readonly matchQueueUrl: pulumi.Input<string>
  readonly parseDeadLetterQueueUrl: pulumi.Input<string>
  readonly matchDeadLetterQueueUrl: pulumi.Input<string>
  readonly userPoolId: pulumi.Input<string>
  readonly userPoolClientId: pulumi.Input<string>
  readonly matcherUrl: pulumi.Input<string>
  readonly publicUrl: pulumi.Input<string>
  readonly databaseHost: pulumi.Input<string>
  readonly databasePort: pulumi.Input<number>
  readonly databaseName: pulumi.Input<string>
}

export interface AppSecretsArgs {
  /** The Aurora-managed master secret: JSON with `username` and `password`. */
  readonly databaseSecretArn: pulumi.Input<string>
  readonly matcherApiKeySecretArn?: pulumi.Input<string>
}

export interface ContainerVariable {
  readonly name: string
  readonly value: pulumi.Input<string>
}

export interface ContainerSecret {
  readonly name: string
  readonly valueFrom: pulumi.Input<string>
}

export function appEnvironment(args: AppEnvironmentArgs): ContainerVariable[] {
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
    { name: "AUTH", value: "cognito" },
    { name: "COGNITO_USER_POOL_ID", value: args.userPoolId },
    { name: "COGNITO_CLIENT_ID", value: args.userPoolClientId },
    { name: "COGNITO_REGION", value: args.region },
    { name: "MATCHER_URL", value: args.matcherUrl },
    { name: "PUBLIC_URL", value: args.publicUrl },
    { name: "LOG_LEVEL", value: "Info" },
    // The database arrives as libpq-style variables rather than one DATABASE_URL: the password lives only
    // in the RDS-managed secret, and ECS can inject single JSON keys of it but cannot splice them into a URL.
    { name: "PGHOST", value: args.databaseHost },
    { name: "PGPORT", value: pulumi.output(args.databasePort).apply(String) },
    { name: "PGDATABASE", value: args.databaseName },
    // Traffic to Aurora leaves the task; encrypt it.
    { name: "PGSSLMODE", value: "require" },
  ]
}

/** The queues a worker process consumes (the worker's WORKER_QUEUES; the app's default is both). */
export type WorkerQueue = "parse" | "match"

export function workerQueues(queues: readonly WorkerQueue[]): ContainerVariable {
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
