import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { ecsTasksTrustPolicy, policyDocument, requiredWildcardSid, type PolicyStatement } from "./policy.ts"
import { childOptions, type Scope } from "./scope.ts"
import { exportsPrefix, pendingPrefix, uploadsPrefix } from "./storage.ts"
import type { Queues } from "./queues.ts"

export interface TaskRoles {
  /** Used by ECS itself: pull the image, write logs, read the secrets injected into the containers. */
  readonly execution: aws.iam.Role
  readonly server: aws.iam.Role
  /** The autoscaled parse workers: read uploads, consume parse jobs. */
  readonly parseWorker: aws.iam.Role
  /** The single match worker: consume match jobs; no access to files. */
  readonly matchWorker: aws.iam.Role
}

export interface TaskRolesArgs {
  readonly key: aws.kms.Key
  readonly bucket: aws.s3.Bucket
  readonly queues: Queues
  readonly repository: aws.ecr.Repository
  readonly logGroups: aws.cloudwatch.LogGroup[]
  /** Secrets the containers receive as environment (database master secret, optional matcher key). */
  readonly secretArns: pulumi.Input<string>[]
  /** The tenant's user pool: admins run the team from the app (invite, role groups, disable, delete). */
  readonly userPool: aws.cognito.UserPool
}

function role(scope: Scope, suffix: string, description: string, policy: pulumi.Output<string>): aws.iam.Role {
  const created = new aws.iam.Role(
    `${scope.name}-${suffix}`,
    { description, assumeRolePolicy: ecsTasksTrustPolicy(scope.accountId), tags: scope.tags },
    childOptions(scope),
  )
  new aws.iam.RolePolicy(`${scope.name}-${suffix}-policy`, { role: created.id, policy }, childOptions(scope))
  return created
}

export function createTaskRoles(scope: Scope, args: TaskRolesArgs): TaskRoles {
  const { key, bucket, queues } = args
  const objects = (prefix: string) => pulumi.interpolate`${bucket.arn}/${prefix}*`

  const execution = role(
    scope,
    "task-execution",
    "Scopeline ECS agent: image pull, logs, injected secrets",
    policyDocument(
      {
        // RequiredWildcard: ecr:GetAuthorizationToken is account-wide; AWS accepts only Resource "*".
        Sid: `${requiredWildcardSid}EcrAuthToken`,
        Effect: "Allow",
        Action: "ecr:GetAuthorizationToken",
        Resource: "*",
      },
      {
        Sid: "PullAppImage",
        Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        Resource: args.repository.arn,
      },
      {
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: args.logGroups.map((group) => pulumi.interpolate`${group.arn}:log-stream:*`),
      },
      {
        Sid: "ReadInjectedSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: args.secretArns,
      },
      {
        // The secrets and the image layers are encrypted with the tenant key.
        Sid: "DecryptWithTenantKey",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key.arn,
      },
    ),
  )

  const server = role(
    scope,
    "server-task",
    "Scopeline server: presigned uploads, queue depths, dead-letter replay, team administration",
    policyDocument(
      {
        // Presigned URLs carry the signer's permissions: PutObject for the upload, GetObject for reads
        // (HeadObject is authorised by s3:GetObject; there is no separate action).
        Sid: "UploadObjects",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: [objects(uploadsPrefix), objects(pendingPrefix)],
      },
      {
        // The download link of a finished export is a presigned GET: it carries this permission.
        Sid: "DownloadExports",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: objects(exportsPrefix),
      },
      {
        // Writing SSE-KMS objects and KMS-encrypted queue messages needs a data key.
        Sid: "UseTenantKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: key.arn,
      },
      {
        // Replaying a dead letter sends its body back to the queue it came from.
        Sid: "ReplayToWorkQueues",
        Effect: "Allow",
        Action: "sqs:SendMessage",
        Resource: [queues.parse.queue.arn, queues.match.queue.arn, queues.export.queue.arn],
      },
      {
        // SQS cannot list a queue: the ops page peeks at dead letters (receive, then release at once)
        // and a replay deletes the one it re-sent.
        Sid: "PeekAndReplayDeadLetters",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
        Resource: [queues.parse.deadLetter.arn, queues.match.deadLetter.arn, queues.export.deadLetter.arn],
      },
      {
        // The team page: invitations create users in the pool, a role is a group, deactivation and
        // deletion disable and remove the user. This pool only, these calls only.
        Sid: "RunTheTeam",
        Effect: "Allow",
        Action: [
          "cognito-idp:AdminCreateUser",
          "cognito-idp:AdminAddUserToGroup",
          "cognito-idp:AdminRemoveUserFromGroup",
          "cognito-idp:AdminDisableUser",
          "cognito-idp:AdminEnableUser",
          "cognito-idp:AdminDeleteUser",
        ],
        Resource: args.userPool.arn,
      },
      {
        // Queue depth and dead-letter counts on the ops page; read-only.
        Sid: "ReadQueueDepth",
        Effect: "Allow",
        Action: "sqs:GetQueueAttributes",
        Resource: [
          queues.parse.queue.arn,
          queues.match.queue.arn,
          queues.export.queue.arn,
          queues.parse.deadLetter.arn,
          queues.match.deadLetter.arn,
          queues.export.deadLetter.arn,
        ],
      },
    ),
  )

  const consume = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
  // Both worker services share these two grants.
  const useTenantKey: PolicyStatement = {
    // Decrypt received messages (and, for parse, objects); GenerateDataKey to send to the encrypted queues.
    Sid: "UseTenantKey",
    Effect: "Allow",
    Action: ["kms:Decrypt", "kms:GenerateDataKey"],
    Resource: key.arn,
  }
  const relayOutbox: PolicyStatement = {
    // Every worker process runs the outbox relay, and the relay sends whatever the outbox holds: parse jobs
    // (written by the server when an upload is confirmed), match jobs (written by parsing) and export jobs
  // (written by the server when one is asked for). A relay that
    // could send to only one queue would fail its whole pass on the first row for the other, so both
    // services may send to both queues.
    Sid: "RelayOutbox",
    Effect: "Allow",
    Action: "sqs:SendMessage",
    Resource: [queues.parse.queue.arn, queues.match.queue.arn, queues.export.queue.arn],
  }

  const parseWorker = role(
    scope,
    "parse-worker-task",
    "Scopeline parse worker: read uploads, consume parse and export jobs, write exports, relay the outbox",
    policyDocument(
      {
        // Both prefixes: a job may arrive for a file still under pending/ (the confirm request raced the
        // move); reads only, the worker never writes or deletes files.
        Sid: "ReadUploads",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: [objects(uploadsPrefix), objects(pendingPrefix)],
      },
      useTenantKey,
      {
        Sid: "ConsumeParseJobs",
        Effect: "Allow",
        Action: consume,
        Resource: queues.parse.queue.arn,
      },
      {
        // The parse service also runs the export jobs: both scale with work that comes in bursts.
        Sid: "ConsumeExportJobs",
        Effect: "Allow",
        Action: consume,
        Resource: queues.export.queue.arn,
      },
      {
        Sid: "WriteExports",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: objects(exportsPrefix),
      },
      relayOutbox,
    ),
  )

  const matchWorker = role(
    scope,
    "match-worker-task",
    "Scopeline match worker: consume match jobs, relay the outbox",
    policyDocument(
      useTenantKey,
      {
        Sid: "ConsumeMatchJobs",
        Effect: "Allow",
        Action: consume,
        Resource: queues.match.queue.arn,
      },
      relayOutbox,
    ),
  )

  return { execution, server, parseWorker, matchWorker }
}
