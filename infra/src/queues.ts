import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { childOptions, physicalName, type Scope } from "./scope.ts"

export interface QueuePair {
  readonly queue: aws.sqs.Queue
  readonly deadLetter: aws.sqs.Queue
}

export interface Queues {
  readonly parse: QueuePair
  readonly match: QueuePair
  readonly export: QueuePair
}

/**
 * Deliveries of an export job before SQS dead-letters it: the first and two retries, whatever the
 * pipeline's maxReceiveCount (the app's EXPORT_MAX_RECEIVES, checked equal by test/infra).
 */
export const EXPORT_MAX_RECEIVE_COUNT = 3

export interface QueuesArgs {
  readonly key: aws.kms.Key
  readonly maxReceiveCount: number
}

const fourteenDays = 14 * 24 * 60 * 60

/**
 * A job queue with its own dead-letter queue. Visibility timeouts are longer than one job's worst case
 * (a large CSV parse; a matcher batch with retries) so a slow job is not handed to a second worker.
 */
function createQueuePair(
  scope: Scope,
  kind: "parse" | "match" | "export",
  visibilityTimeoutSeconds: number,
  args: QueuesArgs,
): QueuePair {
  const opts = childOptions(scope)
  const encryption = { kmsMasterKeyId: args.key.arn, kmsDataKeyReusePeriodSeconds: 300 }
  const deadLetter = new aws.sqs.Queue(
    `${scope.name}-${kind}-dlq`,
    {
      name: physicalName(scope, `${kind}-dlq`),
      ...encryption,
      // The longest SQS allows: dead letters wait for a person, who may be on holiday.
      messageRetentionSeconds: fourteenDays,
      tags: scope.tags,
    },
    opts,
  )
  const queue = new aws.sqs.Queue(
    `${scope.name}-${kind}`,
    {
      name: physicalName(scope, kind),
      ...encryption,
      visibilityTimeoutSeconds,
      // Long polling: fewer empty receives, lower cost.
      receiveWaitTimeSeconds: 20,
      redrivePolicy: pulumi.jsonStringify({
        deadLetterTargetArn: deadLetter.arn,
        maxReceiveCount: args.maxReceiveCount,
      }),
      tags: scope.tags,
    },
    opts,
  )
  // Separate resource: the dead-letter queue cannot name its source queue at creation without a cycle.
  new aws.sqs.RedriveAllowPolicy(
    `${scope.name}-${kind}-dlq-allow`,
    {
      queueUrl: deadLetter.url,
      redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }),
    },
    opts,
  )
  return { queue, deadLetter }
}

export function createQueues(scope: Scope, args: QueuesArgs): Queues {
  return {
    parse: createQueuePair(scope, "parse", 300, args),
    match: createQueuePair(scope, "match", 120, args),
    // A million-row export streams for minutes; its retries wait out the visibility timeout.
    export: createQueuePair(scope, "export", 900, { ...args, maxReceiveCount: EXPORT_MAX_RECEIVE_COUNT }),
  }
}
