import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { createComputeBase, createService } from "./compute.ts"
import { validateTenant, type TenantConfig } from "./config.ts"
import { createDatabase, databaseName } from "./database.ts"
import { createTenantKey } from "./encryption.ts"
import { appEnvironment, appSecrets, workerQueues } from "./environment.ts"
import { createTaskRoles } from "./iam.ts"
import { createIdentity } from "./identity.ts"
import { createLoadBalancer } from "./loadBalancer.ts"
import { createMonitoring } from "./monitoring.ts"
import { createNetwork } from "./network.ts"
import { createQueues } from "./queues.ts"
import { createParseWorkerScaling } from "./scaling.ts"
import type { Scope } from "./scope.ts"
import { createMatcherKeySecret } from "./secrets.ts"
import { createUploadsBucket } from "./storage.ts"

export const tenantStackType = "scopeline:tenant:TenantStack"

/**
 * Everything one tenant runs on, in its own VPC, behind its own KMS key: nothing is shared between two
 * tenants' stacks, so one tenant can be moved, restored or torn down without touching another.
 */
export class TenantStack extends pulumi.ComponentResource {
  readonly appUrl: pulumi.Output<string>
  readonly bucketName: pulumi.Output<string>
  readonly parseQueueUrl: pulumi.Output<string>
  readonly matchQueueUrl: pulumi.Output<string>
  readonly parseDeadLetterQueueUrl: pulumi.Output<string>
  readonly matchDeadLetterQueueUrl: pulumi.Output<string>
  readonly exportQueueUrl: pulumi.Output<string>
  readonly exportDeadLetterQueueUrl: pulumi.Output<string>
  readonly userPoolId: pulumi.Output<string>
  readonly userPoolClientId: pulumi.Output<string>
  readonly dashboardName: pulumi.Output<string>
  readonly repositoryUrl: pulumi.Output<string>
  readonly clusterName: pulumi.Output<string>
  readonly databaseEndpoint: pulumi.Output<string>
  readonly databaseSecretArn: pulumi.Output<string>
  readonly alarmTopicArn: pulumi.Output<string>

  constructor(name: string, config: TenantConfig, opts: pulumi.ComponentResourceOptions = {}) {
    super(tenantStackType, name, {}, opts)
    const tenant = validateTenant(config.tenant)
    const scope: Scope = {
      name,
      tenant,
      parent: this,
      accountId: aws.getCallerIdentityOutput({}, { parent: this }).accountId,
      region: aws.getRegionOutput({}, { parent: this }).region,
      partition: aws.getPartitionOutput({}, { parent: this }).partition,
      tags: { "scopeline:tenant": tenant, "scopeline:managed-by": "pulumi" },
    }

    const { key } = createTenantKey(scope)
    const network = createNetwork(scope, {
      cidr: config.vpcCidr,
      egressPorts: egressPortsFor(config.matcherUrl),
      https: Boolean(config.certificateArn),
    })
    const edge = createLoadBalancer(scope, {
      vpc: network.vpc,
      subnets: network.publicSubnets,
      securityGroup: network.albSecurityGroup,
      certificateArn: config.certificateArn,
      appOrigin: config.appOrigin,
    })
    const queues = createQueues(scope, { key, maxReceiveCount: config.maxReceiveCount })
    const { bucket } = createUploadsBucket(scope, {
      key,
      parseQueue: queues.parse.queue,
      appOrigin: edge.appUrl,
      fileRetentionDays: config.fileRetentionDays,
      noncurrentVersionDays: config.noncurrentVersionDays,
    })
    const database = createDatabase(scope, {
      key,
      subnets: network.privateSubnets,
      securityGroup: network.databaseSecurityGroup,
      engineVersion: config.dbEngineVersion,
      minCapacity: config.dbMinCapacity,
      maxCapacity: config.dbMaxCapacity,
      backupRetentionDays: config.backupRetentionDays,
      deletionProtection: config.deletionProtection,
    })
    const identity = createIdentity(scope, config.deletionProtection)
    const matcherKey = config.matcherApiKey ? createMatcherKeySecret(scope, key, config.matcherApiKey) : undefined

    const base = createComputeBase(scope, { key, logRetentionDays: config.logRetentionDays })
    const roles = createTaskRoles(scope, {
      key,
      bucket,
      queues,
      repository: base.repository,
      logGroups: [base.logGroups.server, base.logGroups.worker],
      secretArns: [database.masterSecretArn, ...(matcherKey ? [matcherKey.arn] : [])],
      userPool: identity.userPool,
    })
    const environment = appEnvironment<pulumi.Input<string>>({
      bucketName: bucket.bucket,
      region: scope.region,
      parseQueueUrl: queues.parse.queue.url,
      matchQueueUrl: queues.match.queue.url,
      parseDeadLetterQueueUrl: queues.parse.deadLetter.url,
      matchDeadLetterQueueUrl: queues.match.deadLetter.url,
      exportQueueUrl: queues.export.queue.url,
      exportDeadLetterQueueUrl: queues.export.deadLetter.url,
      // The same number the queues' redrive policies were given above.
      maxReceiveCount: config.maxReceiveCount,
      userPoolId: identity.userPool.id,
      userPoolClientId: identity.client.id,
      matcherUrl: config.matcherUrl,
      publicUrl: edge.appUrl,
      databaseHost: database.cluster.endpoint,
      databasePort: database.cluster.port.apply(String),
      databaseName,
      environmentName: tenant,
    })
    const secrets = appSecrets({ databaseSecretArn: database.masterSecretArn, matcherApiKeySecretArn: matcherKey?.arn })
    const common = { base, imageTag: config.imageTag, executionRole: roles.execution, subnets: network.privateSubnets, environment, secrets }
    const server = createService(scope, "server", {
      ...common,
      taskRole: roles.server,
      securityGroup: network.serverSecurityGroup,
      cpu: config.serverCpu,
      memory: config.serverMemory,
      desiredCount: config.serverCount,
      loadBalancer: { targetGroup: edge.targetGroup, listeners: edge.listeners },
    })
    // The worker runs as two services from the same image and command, told apart by WORKER_QUEUES.
    const workerCommon = {
      ...common,
      securityGroup: network.workerSecurityGroup,
      cpu: config.workerCpu,
      memory: config.workerMemory,
    }
    // Parsing is CPU, S3 and database work with no shared limit: it scales out on the parse backlog. It
    // never calls the matcher, so it does not receive the matcher's API key.
    const parseWorker = createService(scope, "parse-worker", {
      ...workerCommon,
      taskRole: roles.parseWorker,
      environment: [...environment, workerQueues(["parse", "export"])],
      secrets: appSecrets({ databaseSecretArn: database.masterSecretArn }),
      desiredCount: config.workerMinCount,
      autoscaled: true,
    })
    createParseWorkerScaling(scope, {
      cluster: base.cluster,
      service: parseWorker.service,
      queues,
      minCount: config.workerMinCount,
      maxCount: config.workerMaxCount,
      scaleOutBacklog: config.workerScaleOutBacklog,
    })
    // Matching runs as exactly ONE task, never autoscaled. The app limits matcher calls to
    // MATCHER_CONCURRENCY and coalesces identical requests inside one process; with one process that
    // limiter and that coalescing map are global, so the matcher's concurrency cap holds and no call is
    // made twice. A second task would double the calls in flight and duplicate requests. More tasks would
    // not help anyway: the matcher, not this worker, is the throughput bottleneck.
    const matchWorker = createService(scope, "match-worker", {
      ...workerCommon,
      taskRole: roles.matchWorker,
      environment: [...environment, workerQueues(["match"])],
      desiredCount: 1,
      // Stop the old task before starting the new one, so a deploy does not run two match tasks side by
      // side (ECS's default 200% would overlap them until the new task is steady). The trade-off: no
      // matching for the moment between the old task stopping and the new one starting (the old one may
      // take up to its stop timeout to finish its batch); match jobs wait safely in SQS meanwhile.
      deployment: { maximumPercent: 100, minimumHealthyPercent: 0 },
    })
    const monitoring = createMonitoring(scope, {
      key,
      alarmEmail: config.alarmEmail,
      queues,
      alb: edge.alb,
      cluster: base.cluster,
      services: { server: server.service, parseWorker: parseWorker.service, matchWorker: matchWorker.service },
      oldestMessageAlarmSeconds: config.oldestMessageAlarmSeconds,
      alb5xxAlarmPercent: config.alb5xxAlarmPercent,
    })

    this.appUrl = edge.appUrl
    this.bucketName = bucket.bucket
    this.parseQueueUrl = queues.parse.queue.url
    this.matchQueueUrl = queues.match.queue.url
    this.parseDeadLetterQueueUrl = queues.parse.deadLetter.url
    this.matchDeadLetterQueueUrl = queues.match.deadLetter.url
    this.exportQueueUrl = queues.export.queue.url
    this.exportDeadLetterQueueUrl = queues.export.deadLetter.url
    this.userPoolId = identity.userPool.id
    this.userPoolClientId = identity.client.id
    this.dashboardName = monitoring.dashboard.dashboardName
    this.repositoryUrl = base.repository.repositoryUrl
    this.clusterName = base.cluster.name
    this.databaseEndpoint = database.cluster.endpoint
    this.databaseSecretArn = database.masterSecretArn
    this.alarmTopicArn = monitoring.topic.arn

    this.registerOutputs({
      appUrl: this.appUrl,
      bucketName: this.bucketName,
      parseQueueUrl: this.parseQueueUrl,
      matchQueueUrl: this.matchQueueUrl,
      exportQueueUrl: this.exportQueueUrl,
      exportDeadLetterQueueUrl: this.exportDeadLetterQueueUrl,
      parseDeadLetterQueueUrl: this.parseDeadLetterQueueUrl,
      matchDeadLetterQueueUrl: this.matchDeadLetterQueueUrl,
      userPoolId: this.userPoolId,
      userPoolClientId: this.userPoolClientId,
      dashboardName: this.dashboardName,
      repositoryUrl: this.repositoryUrl,
      clusterName: this.clusterName,
      databaseEndpoint: this.databaseEndpoint,
      databaseSecretArn: this.databaseSecretArn,
      alarmTopicArn: this.alarmTopicArn,
    })
  }
}

/** HTTPS for AWS APIs and ECR, plus the matcher's port when it is not 443 (a plain-HTTP or custom port). */
export function egressPortsFor(matcherUrl: string): number[] {
  let url: URL
  try {
    url = new URL(matcherUrl)
  } catch {
    throw new Error(`matcherUrl "${matcherUrl}" is not a URL`)
  }
  const port = url.port ? Number(url.port) : url.protocol === "http:" ? 80 : 443
  return [...new Set([443, port])]
}
