import * as pulumi from "@pulumi/pulumi"

/**
 * Everything a tenant's stack can be told. `loadTenantConfig` fills it from `Pulumi.<tenant>.yaml`; tests
 * build it by hand, so the component never reads config itself and two tenants can live in one program.
 */
export interface TenantConfig {
  /** Lower-case tenant slug; every physical name is derived from it. */
  readonly tenant: string
  /** Where alarm notifications go (an SNS email subscription the recipient must confirm). */
  readonly alarmEmail: string
  /** Base URL of the AI Matcher the workers call (MATCHER_URL). */
  readonly matcherUrl: string
  /** Optional bearer key for the matcher; kept in Secrets Manager, never in plain task env. */
  readonly matcherApiKey?: pulumi.Output<string>
  /** Public origin browsers use (e.g. https://acme.scopeline.app); defaults to the load balancer's URL. */
  readonly appOrigin?: string
  /** ACM certificate for HTTPS on the load balancer; without it the app is served over plain HTTP. */
  readonly certificateArn?: string
  readonly imageTag: string
  readonly fileRetentionDays: number
  readonly noncurrentVersionDays: number
  readonly maxReceiveCount: number
  readonly logRetentionDays: number
  readonly backupRetentionDays: number
  readonly deletionProtection: boolean
  readonly dbEngineVersion: string
  readonly dbMinCapacity: number
  readonly dbMaxCapacity: number
  readonly vpcCidr: string
  readonly serverCount: number
  readonly serverCpu: number
  readonly serverMemory: number
  /** Fargate size of each worker task (parse workers and the match worker alike). */
  readonly workerCpu: number
  readonly workerMemory: number
  /** Bounds of parse-worker autoscaling. The match worker always runs exactly one task. */
  readonly workerMinCount: number
  readonly workerMaxCount: number
  /** Visible parse messages above which the parse-worker service adds tasks. */
  readonly workerScaleOutBacklog: number
  /** Oldest-message age (seconds) on parse/match that raises an alarm. */
  readonly oldestMessageAlarmSeconds: number
  /** Percentage of ALB requests answered 5xx that raises an alarm. */
  readonly alb5xxAlarmPercent: number
}

/** Defaults in one place so the operations guide and the code cannot drift apart silently. */
export const tenantDefaults = {
  imageTag: "latest",
  fileRetentionDays: 90,
  noncurrentVersionDays: 30,
  maxReceiveCount: 5,
  logRetentionDays: 30,
  backupRetentionDays: 7,
  deletionProtection: true,
  dbEngineVersion: "16.6",
  dbMinCapacity: 0.5,
  dbMaxCapacity: 4,
  vpcCidr: "10.40.0.0/16",
  serverCount: 2,
  serverCpu: 512,
  serverMemory: 1024,
  workerCpu: 1024,
  workerMemory: 2048,
  workerMinCount: 1,
  workerMaxCount: 10,
  workerScaleOutBacklog: 10,
  oldestMessageAlarmSeconds: 900,
  alb5xxAlarmPercent: 5,
} as const

/** The container port is part of the app contract (PORT=3000), not a per-tenant choice. */
export const appPort = 3000

// Physical names such as `scopeline-<tenant>-parse-dlq` and ALB/target-group auto-names have length limits;
// a short slug keeps every derived name valid.
const tenantPattern = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/

export function validateTenant(tenant: string): string {
  if (!tenantPattern.test(tenant)) {
    throw new Error(
      `tenant "${tenant}" must be 3-20 characters of lower-case letters, digits and hyphens, starting with a letter`,
    )
  }
  return tenant
}

/** Reads a stack's `scopeline:*` config; the tenant defaults to the stack name (`pulumi stack init acme`). */
export function loadTenantConfig(config: pulumi.Config, stackName: string): TenantConfig {
  const d = tenantDefaults
  return {
    tenant: validateTenant(config.get("tenant") ?? stackName),
    alarmEmail: config.require("alarmEmail"),
    matcherUrl: config.require("matcherUrl"),
    matcherApiKey: config.getSecret("matcherApiKey"),
    appOrigin: config.get("appOrigin"),
    certificateArn: config.get("certificateArn"),
    imageTag: config.get("imageTag") ?? d.imageTag,
    fileRetentionDays: config.getNumber("fileRetentionDays", { min: 1 }) ?? d.fileRetentionDays,
    noncurrentVersionDays: config.getNumber("noncurrentVersionDays", { min: 1 }) ?? d.noncurrentVersionDays,
    maxReceiveCount: config.getNumber("maxReceiveCount", { min: 1, max: 1000 }) ?? d.maxReceiveCount,
    logRetentionDays: config.getNumber("logRetentionDays") ?? d.logRetentionDays,
    backupRetentionDays: config.getNumber("backupRetentionDays", { min: 1, max: 35 }) ?? d.backupRetentionDays,
    deletionProtection: config.getBoolean("deletionProtection") ?? d.deletionProtection,
    dbEngineVersion: config.get("dbEngineVersion") ?? d.dbEngineVersion,
    dbMinCapacity: config.getNumber("dbMinCapacity", { min: 0 }) ?? d.dbMinCapacity,
    dbMaxCapacity: config.getNumber("dbMaxCapacity", { min: 1 }) ?? d.dbMaxCapacity,
    vpcCidr: config.get("vpcCidr") ?? d.vpcCidr,
    serverCount: config.getNumber("serverCount", { min: 1 }) ?? d.serverCount,
    serverCpu: config.getNumber("serverCpu") ?? d.serverCpu,
    serverMemory: config.getNumber("serverMemory") ?? d.serverMemory,
    workerCpu: config.getNumber("workerCpu") ?? d.workerCpu,
    workerMemory: config.getNumber("workerMemory") ?? d.workerMemory,
    workerMinCount: config.getNumber("workerMinCount", { min: 0 }) ?? d.workerMinCount,
    workerMaxCount: config.getNumber("workerMaxCount", { min: 1 }) ?? d.workerMaxCount,
    workerScaleOutBacklog: config.getNumber("workerScaleOutBacklog", { min: 1 }) ?? d.workerScaleOutBacklog,
    oldestMessageAlarmSeconds:
      config.getNumber("oldestMessageAlarmSeconds", { min: 60 }) ?? d.oldestMessageAlarmSeconds,
    alb5xxAlarmPercent: config.getNumber("alb5xxAlarmPercent", { min: 0.1, max: 100 }) ?? d.alb5xxAlarmPercent,
  }
}
