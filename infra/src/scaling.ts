import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import type { Queues } from "./queues.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

export interface WorkerScalingArgs {
  readonly cluster: aws.ecs.Cluster
  /** The parse-worker service: the only worker service that scales (match runs as exactly one task). */
  readonly service: aws.ecs.Service
  readonly queues: Queues
  readonly minCount: number
  readonly maxCount: number
  /** Visible parse messages above which tasks are added. */
  readonly scaleOutBacklog: number
}

export interface WorkerScaling {
  readonly target: aws.appautoscaling.Target
  readonly scaleOut: aws.appautoscaling.Policy
  readonly scaleIn: aws.appautoscaling.Policy
  readonly alarms: aws.cloudwatch.MetricAlarm[]
}

/**
 * Metric math over the parse queue: the backlog the parse workers have to drain. The match queue is not
 * part of it: more parse workers would not drain matching (one match worker does that, paced by the
 * matcher), so a match backlog must not add parse tasks.
 */
function backlogQueries(queues: Queues, metricName: string, includeInFlight: boolean): aws.types.input.cloudwatch.MetricAlarmMetricQuery[] {
  const metric = (id: string, queue: aws.sqs.Queue, name: string): aws.types.input.cloudwatch.MetricAlarmMetricQuery => ({
    id,
    returnData: false,
    metric: { namespace: "AWS/SQS", metricName: name, dimensions: { QueueName: queue.name }, period: 60, stat: "Maximum" },
  })
  const queries = [metric("parse", queues.parse.queue, metricName)]
  if (includeInFlight) queries.push(metric("parseinflight", queues.parse.queue, "ApproximateNumberOfMessagesNotVisible"))
  // FILL: an idle queue publishes no datapoint, which must count as zero, not as "unknown".
  const expression = queries.map((q) => `FILL(${q.id}, 0)`).join(" + ")
  return [...queries, { id: "backlog", expression, label: "Parse backlog", returnData: true }]
}

/**
 * Step scaling of the parse workers on parse queue depth rather than CPU: a parse worker waiting on S3 or
 * the database is idle on CPU yet the backlog grows. Scale out in steps as the backlog grows; scale in
 * only when nothing is queued or in flight, so a task is never stopped while the queue still holds its work.
 */
export function createParseWorkerScaling(scope: Scope, args: WorkerScalingArgs): WorkerScaling {
  const opts = childOptions(scope)
  const resourceId = pulumi.interpolate`service/${args.cluster.name}/${args.service.name}`
  const target = new aws.appautoscaling.Target(
    `${scope.name}-parse-worker-scaling`,
    {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId,
      minCapacity: args.minCount,
      maxCapacity: args.maxCount,
    },
    opts,
  )
  const policy = (suffix: string, stepScalingPolicyConfiguration: aws.types.input.appautoscaling.PolicyStepScalingPolicyConfiguration) =>
    new aws.appautoscaling.Policy(
      `${scope.name}-parse-worker-${suffix}`,
      {
        name: physicalName(scope, `parse-worker-${suffix}`),
        policyType: "StepScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        stepScalingPolicyConfiguration,
      },
      opts,
    )
  const threshold = args.scaleOutBacklog
  const scaleOut = policy("scale-out", {
    adjustmentType: "ChangeInCapacity",
    cooldown: 60,
    metricAggregationType: "Maximum",
    // Bounds are relative to the alarm threshold.
    stepAdjustments: [
      { metricIntervalLowerBound: "0", metricIntervalUpperBound: String(threshold * 10), scalingAdjustment: 1 },
      { metricIntervalLowerBound: String(threshold * 10), metricIntervalUpperBound: String(threshold * 100), scalingAdjustment: 2 },
      { metricIntervalLowerBound: String(threshold * 100), scalingAdjustment: 4 },
    ],
  })
  const scaleIn = policy("scale-in", {
    adjustmentType: "ExactCapacity",
    cooldown: 300,
    metricAggregationType: "Maximum",
    stepAdjustments: [{ metricIntervalUpperBound: "0", scalingAdjustment: args.minCount }],
  })
  const alarms = [
    new aws.cloudwatch.MetricAlarm(
      `${scope.name}-parse-worker-backlog-high`,
      {
        name: physicalName(scope, "parse-worker-backlog-high"),
        alarmDescription: "Drives parse-worker scale-out; not a paging alarm.",
        comparisonOperator: "GreaterThanThreshold",
        threshold,
        evaluationPeriods: 2,
        metricQueries: backlogQueries(args.queues, "ApproximateNumberOfMessagesVisible", false),
        treatMissingData: "notBreaching",
        alarmActions: [scaleOut.arn],
        tags: scope.tags,
      },
      opts,
    ),
    new aws.cloudwatch.MetricAlarm(
      `${scope.name}-parse-worker-backlog-empty`,
      {
        name: physicalName(scope, "parse-worker-backlog-empty"),
        alarmDescription: "Drives parse-worker scale-in once nothing is queued or in flight; not a paging alarm.",
        comparisonOperator: "LessThanOrEqualToThreshold",
        threshold: 0,
        evaluationPeriods: 15,
        metricQueries: backlogQueries(args.queues, "ApproximateNumberOfMessagesVisible", true),
        treatMissingData: "breaching",
        alarmActions: [scaleIn.arn],
        tags: scope.tags,
      },
      opts,
    ),
  ]
  return { target, scaleOut, scaleIn, alarms }
}
