import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { appPort } from "./config.ts"
import type { ContainerSecret, ContainerVariable } from "./environment.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

/** One image, two processes: the container command picks which app runs. */
export const processCommands = {
  server: ["bun", "apps/server/src/main.ts"],
  worker: ["bun", "apps/worker/src/main.ts"],
} as const

export type ProcessKind = keyof typeof processCommands

/**
 * The ECS services and the process each runs. Both worker services run the same worker command; the
 * WORKER_QUEUES variable they receive picks the queue each consumes (see TenantStack).
 */
export const serviceProcesses = {
  server: "server",
  "parse-worker": "worker",
  "match-worker": "worker",
} as const satisfies Record<string, ProcessKind>

export type ServiceKind = keyof typeof serviceProcesses

export interface ComputeBase {
  readonly repository: aws.ecr.Repository
  readonly cluster: aws.ecs.Cluster
  readonly logGroups: Record<ProcessKind, aws.cloudwatch.LogGroup>
}

export function createComputeBase(
  scope: Scope,
  args: { readonly key: aws.kms.Key; readonly logRetentionDays: number },
): ComputeBase {
  const opts = childOptions(scope)
  const repository = new aws.ecr.Repository(
    `${scope.name}-app-image`,
    {
      name: physicalName(scope, "app"),
      // Tags such as "latest" are re-pushed on every release; pin a git SHA tag for reproducible deploys.
      imageTagMutability: "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: args.key.arn }],
      forceDelete: false,
      tags: scope.tags,
    },
    opts,
  )
  new aws.ecr.LifecyclePolicy(
    `${scope.name}-app-image-lifecycle`,
    {
      repository: repository.name,
      // Keeps enough history to roll back without paying for every image ever pushed.
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Keep the 30 most recent images",
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 },
            action: { type: "expire" },
          },
        ],
      }),
    },
    opts,
  )
  const cluster = new aws.ecs.Cluster(`${scope.name}-cluster`, { name: physicalName(scope, "cluster"), tags: scope.tags }, opts)
  const logGroup = (kind: ProcessKind) =>
    new aws.cloudwatch.LogGroup(
      `${scope.name}-${kind}-logs`,
      { name: `/scopeline/${scope.tenant}/${kind}`, retentionInDays: args.logRetentionDays, tags: scope.tags },
      opts,
    )
  return { repository, cluster, logGroups: { server: logGroup("server"), worker: logGroup("worker") } }
}

export interface ServiceArgs {
  readonly base: ComputeBase
  readonly imageTag: string
  readonly executionRole: aws.iam.Role
  readonly taskRole: aws.iam.Role
  readonly subnets: aws.ec2.Subnet[]
  readonly securityGroup: aws.ec2.SecurityGroup
  readonly environment: ContainerVariable[]
  readonly secrets: ContainerSecret[]
  readonly cpu: number
  readonly memory: number
  readonly desiredCount: number
  /** True when Application Auto Scaling owns the task count (so `pulumi up` must not reset it). */
  readonly autoscaled?: boolean
  /** Rolling-deployment bounds as percentages of the desired count; ECS defaults (200 / 100) when unset. */
  readonly deployment?: { readonly maximumPercent: number; readonly minimumHealthyPercent: number }
  /** Server only: the target group and the listeners that must exist before the service registers. */
  readonly loadBalancer?: { readonly targetGroup: aws.lb.TargetGroup; readonly listeners: aws.lb.Listener[] }
}

export interface AppService {
  readonly taskDefinition: aws.ecs.TaskDefinition
  readonly service: aws.ecs.Service
}

export function createService(scope: Scope, kind: ServiceKind, args: ServiceArgs): AppService {
  const opts = childOptions(scope)
  const processKind = serviceProcesses[kind]
  // Both worker services log to the one worker log group (streams `parse-worker/…`, `match-worker/…`),
  // so one search follows an upload through parsing and matching.
  const logGroup = args.base.logGroups[processKind]
  const containerDefinitions = pulumi.jsonStringify([
    {
      name: kind,
      image: pulumi.interpolate`${args.base.repository.repositoryUrl}:${args.imageTag}`,
      essential: true,
      command: processCommands[processKind],
      portMappings: processKind === "server" ? [{ containerPort: appPort, protocol: "tcp" }] : [],
      environment: args.environment,
      secrets: args.secrets,
      // ECS sends SIGTERM then waits this long: a worker finishes or abandons its batch (the message
      // becomes visible again after its visibility timeout, so nothing is lost).
      stopTimeout: 60,
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": logGroup.name,
          "awslogs-region": scope.region,
          "awslogs-stream-prefix": kind,
        },
      },
    },
  ])
  const taskDefinition = new aws.ecs.TaskDefinition(
    `${scope.name}-${kind}-task`,
    {
      family: physicalName(scope, kind),
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(args.cpu),
      memory: String(args.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      executionRoleArn: args.executionRole.arn,
      taskRoleArn: args.taskRole.arn,
      containerDefinitions,
      tags: scope.tags,
    },
    opts,
  )
  const service = new aws.ecs.Service(
    `${scope.name}-${kind}`,
    {
      name: physicalName(scope, kind),
      cluster: args.base.cluster.arn,
      taskDefinition: taskDefinition.arn,
      launchType: "FARGATE",
      desiredCount: args.desiredCount,
      networkConfiguration: {
        subnets: args.subnets.map((s) => s.id),
        securityGroups: [args.securityGroup.id],
        assignPublicIp: false,
      },
      // A release whose tasks never become healthy rolls back by itself.
      deploymentCircuitBreaker: { enable: true, rollback: true },
      ...(args.deployment
        ? {
            deploymentMaximumPercent: args.deployment.maximumPercent,
            deploymentMinimumHealthyPercent: args.deployment.minimumHealthyPercent,
          }
        : {}),
      propagateTags: "SERVICE",
      ...(args.loadBalancer
        ? {
            loadBalancers: [{ targetGroupArn: args.loadBalancer.targetGroup.arn, containerName: kind, containerPort: appPort }],
            // Migrations run at start-up; give them time before health checks count.
            healthCheckGracePeriodSeconds: 120,
          }
        : {}),
      tags: scope.tags,
    },
    {
      ...opts,
      dependsOn: args.loadBalancer ? args.loadBalancer.listeners : [],
      // An autoscaled service's count belongs to autoscaling; a `pulumi up` must not reset it mid-backlog.
      ignoreChanges: args.autoscaled ? ["desiredCount"] : [],
    },
  )
  return { taskDefinition, service }
}
