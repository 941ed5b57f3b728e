import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { createComputeBase, createService } from "./compute.ts"
import { validateTenant, type TenantConfig } from "./config.ts"
import { createDatabase, databaseName } from "./database.ts"
import { createTenantKey } from "./encryption.ts"
import { appEnvironment, appSecrets } from "./environment.ts"
import { createTaskRoles } from "./iam.ts"
import { createIdentity } from "./identity.ts"
import { createLoadBalancer } from "./loadBalancer.ts"
import { createMonitoring } from "./monitoring.ts"
import { createNetwork } from "./network.ts"
import { createQueues } from "./queues.ts"
import { createWorkerScaling } from "./scaling.ts"
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
    })
    const environment = appEnvironment({
      bucketName: bucket.bucket,
      region: scope.region,
      parseQueueUrl: queues.parse.queue.url,
      matchQueueUrl: queues.match.queue.url,
      userPoolId: identity.userPool.id,
      userPoolClientId: identity.client.id,
      matcherUrl: config.matcherUrl,
      publicUrl: edge.appUrl,
      databaseHost: database.cluster.endpoint,
      databasePort: database.cluster.port,
      databaseName,
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
    const worker = createService(scope, "worker", {
      ...common,
      taskRole: roles.worker,
      securityGroup: network.workerSecurityGroup,
      cpu: config.workerCpu,
      memory: config.workerMemory,
      desiredCount: config.workerMinCount,
    })
    createWorkerScaling(scope, {
      cluster: base.cluster,
      service: worker.service,
      queues,
      minCount: config.workerMinCount,
      maxCount: config.workerMaxCount,
      scaleOutBacklog: config.workerScaleOutBacklog,
    })
    const monitoring = createMonitoring(scope, {
      key,
      alarmEmail: config.alarmEmail,
      queues,
      alb: edge.alb,
      cluster: base.cluster,
      services: { server: server.service, worker: worker.service },
      oldestMessageAlarmSeconds: config.oldestMessageAlarmSeconds,
      alb5xxAlarmPercent: config.alb5xxAlarmPercent,
    })

    this.appUrl = edge.appUrl
    this.bucketName = bucket.bucket
    this.parseQueueUrl = queues.parse.queue.url
    this.matchQueueUrl = queues.match.queue.url
    this.parseDeadLetterQueueUrl = queues.parse.deadLetter.url
    this.matchDeadLetterQueueUrl = queues.match.deadLetter.url
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
