import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import type { Queues } from "./queues.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

/** Custom metrics the worker publishes about the AI Matcher (CloudWatch namespace and names). */
export const matcherMetrics = { namespace: "Scopeline", latency: "MatcherLatencyMs", errors: "MatcherErrors" } as const

export interface MonitoringArgs {
  readonly key: aws.kms.Key
  readonly alarmEmail: string
  readonly queues: Queues
  readonly alb: aws.lb.LoadBalancer
  readonly cluster: aws.ecs.Cluster
  readonly services: {
    readonly server: aws.ecs.Service
    readonly parseWorker: aws.ecs.Service
    readonly matchWorker: aws.ecs.Service
  }
  readonly oldestMessageAlarmSeconds: number
  readonly alb5xxAlarmPercent: number
}

export interface Monitoring {
  readonly topic: aws.sns.Topic
  readonly dashboard: aws.cloudwatch.Dashboard
  readonly alarms: aws.cloudwatch.MetricAlarm[]
}

type MetricLine = (string | pulumi.Output<string> | Record<string, string>)[]

function widget(region: pulumi.Output<string>, title: string, x: number, y: number, metrics: MetricLine[], stat = "Maximum") {
  return { type: "metric", x, y, width: 8, height: 6, properties: { title, metrics, stat, period: 60, view: "timeSeries", region } }
}

export function createMonitoring(scope: Scope, args: MonitoringArgs): Monitoring {
  const opts = childOptions(scope)
  const topic = new aws.sns.Topic(
    `${scope.name}-alarms`,
    { name: physicalName(scope, "alarms"), kmsMasterKeyId: args.key.arn, tags: scope.tags },
    opts,
  )
  // The recipient must click the confirmation link AWS emails; until then alarms reach nobody.
  new aws.sns.TopicSubscription(
    `${scope.name}-alarms-email`,
    { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail },
    opts,
  )
  const actions = { alarmActions: [topic.arn], okActions: [topic.arn] }
  const queuePairs = [
    ["parse", args.queues.parse],
    ["match", args.queues.match],
    ["export", args.queues.export],
  ] as const

  const alarms: aws.cloudwatch.MetricAlarm[] = []
  for (const [kind, pair] of queuePairs) {
    alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${scope.name}-${kind}-dlq-alarm`,
        {
          name: physicalName(scope, `${kind}-dead-letters`),
          alarmDescription:
            `Jobs failed ${kind} after every retry and wait in the dead-letter queue. ` +
            `See docs/operations.md, "Replaying dead letters".`,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: pair.deadLetter.name },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0,
          treatMissingData: "notBreaching",
          ...actions,
          tags: scope.tags,
        },
        opts,
      ),
      new aws.cloudwatch.MetricAlarm(
        `${scope.name}-${kind}-age-alarm`,
        {
          name: physicalName(scope, `${kind}-oldest-message`),
          alarmDescription: `The oldest ${kind} job has waited too long: workers are down, stuck or too few.`,
          namespace: "AWS/SQS",
          metricName: "ApproximateAgeOfOldestMessage",
          dimensions: { QueueName: pair.queue.name },
          statistic: "Maximum",
          period: 60,
          evaluationPeriods: 5,
          datapointsToAlarm: 5,
          comparisonOperator: "GreaterThanThreshold",
          threshold: args.oldestMessageAlarmSeconds,
          treatMissingData: "notBreaching",
          ...actions,
          tags: scope.tags,
        },
        opts,
      ),
    )
  }

  const albMetric = (id: string, metricName: string): aws.types.input.cloudwatch.MetricAlarmMetricQuery => ({
    id,
    returnData: false,
    metric: {
      namespace: "AWS/ApplicationELB",
      metricName,
      dimensions: { LoadBalancer: args.alb.arnSuffix },
      period: 300,
      stat: "Sum",
    },
  })
  alarms.push(
    new aws.cloudwatch.MetricAlarm(
      `${scope.name}-alb-5xx-alarm`,
      {
        name: physicalName(scope, "http-5xx-rate"),
        alarmDescription: "Share of requests answered 5xx (by the load balancer or the server) is too high.",
        comparisonOperator: "GreaterThanThreshold",
        threshold: args.alb5xxAlarmPercent,
        evaluationPeriods: 1,
        metricQueries: [
          albMetric("elb5xx", "HTTPCode_ELB_5XX_Count"),
          albMetric("target5xx", "HTTPCode_Target_5XX_Count"),
          albMetric("requests", "RequestCount"),
          {
            id: "rate",
            // No traffic means no datapoints; FILL keeps a quiet night from looking like an outage.
            expression: "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / FILL(requests, 1)",
            label: "5xx %",
            returnData: true,
          },
        ],
        treatMissingData: "notBreaching",
        ...actions,
        tags: scope.tags,
      },
      opts,
    ),
  )

  const sqs = (metric: string, queue: aws.sqs.Queue): MetricLine => ["AWS/SQS", metric, "QueueName", queue.name]
  const ecs = (metric: string, service: aws.ecs.Service): MetricLine => [
    "AWS/ECS",
    metric,
    "ClusterName",
    args.cluster.name,
    "ServiceName",
    service.name,
  ]
  const services = [args.services.server, args.services.parseWorker, args.services.matchWorker]
  // Metric widgets need an explicit region.
  const widgetIn = (title: string, x: number, y: number, metrics: MetricLine[], stat?: string) =>
    widget(scope.region, title, x, y, metrics, stat)
  const body = {
    widgets: [
      widgetIn("Queue depth (visible)", 0, 0, queuePairs.map(([, pair]) => sqs("ApproximateNumberOfMessagesVisible", pair.queue))),
      widgetIn("Age of oldest message (s)", 8, 0, queuePairs.map(([, pair]) => sqs("ApproximateAgeOfOldestMessage", pair.queue))),
      widgetIn("Dead letters", 16, 0, queuePairs.map(([, pair]) => sqs("ApproximateNumberOfMessagesVisible", pair.deadLetter))),
      widgetIn("Matcher latency (ms)", 0, 6, [
        [matcherMetrics.namespace, matcherMetrics.latency, { stat: "p50" }],
        [matcherMetrics.namespace, matcherMetrics.latency, { stat: "p99" }],
      ]),
      widgetIn("Matcher errors", 8, 6, [[matcherMetrics.namespace, matcherMetrics.errors]], "Sum"),
      widgetIn(
        "HTTP 5xx",
        16,
        6,
        [
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", args.alb.arnSuffix],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", args.alb.arnSuffix],
        ],
        "Sum",
      ),
      widgetIn("ECS CPU %", 0, 12, services.map((service) => ecs("CPUUtilization", service)), "Average"),
      widgetIn("ECS memory %", 8, 12, services.map((service) => ecs("MemoryUtilization", service)), "Average"),
    ],
  }
  const dashboard = new aws.cloudwatch.Dashboard(
    `${scope.name}-dashboard`,
    {
      dashboardName: physicalName(scope, "operations"),
      dashboardBody: pulumi.jsonStringify(body),
    },
    opts,
  )
  return { topic, dashboard, alarms }
}
