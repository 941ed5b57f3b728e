import { EXPORT_MAX_RECEIVES } from "@scopeline/settings/QueueSettings"
import { beforeAll, describe, expect, test } from "bun:test"
import * as pulumi from "@pulumi/pulumi"
import { tenantDefaults, type TenantConfig } from "../../infra/src/config.ts"
import { declaration, settingNames } from "@scopeline/settings/Settings"
import { statements, json, list, ofType, one, policyDocuments, record, strings, text, unmarkedWildcardGrants } from "./support/inspect.ts"
import { createRecorder, explicitNames, registeredUrns, unwrap, type RecordedResource } from "./support/mocks.ts"

// The mocks must be installed before the program is imported: resources register at import time.
const recorder = createRecorder()
await pulumi.runtime.setMocks(recorder.mocks, "scopeline", "acme", false)
// `acme` goes through the real entry point and its stack config, as `pulumi up` would run it.
pulumi.runtime.setAllConfig(
  {
    "scopeline:alarmEmail": "ops@acme.example",
    "scopeline:matcherUrl": "https://matcher.example.com",
    "scopeline:matcherApiKey": "not-a-real-key",
  },
  ["scopeline:matcherApiKey"],
)
const program = await import("../../infra/index.ts")
const { TenantStack } = await import("../../infra/src/TenantStack.ts")

// `globex` is built directly with non-default settings, including HTTPS, so config really flows through.
const globexConfig: TenantConfig = {
  ...tenantDefaults,
  tenant: "globex",
  alarmEmail: "ops@globex.example",
  matcherUrl: "http://matcher.globex.internal:8080",
  appOrigin: "https://globex.scopeline.app",
  certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/globex",
  fileRetentionDays: 30,
  backupRetentionDays: 14,
  maxReceiveCount: 3,
  logRetentionDays: 14,
}
const globex = new TenantStack("globex", globexConfig)

const tenants = { acme: { fileRetentionDays: 90, backupRetentionDays: 7, maxReceiveCount: 5, logRetentionDays: 30 }, globex: globexConfig }
type Tenant = keyof typeof tenants
const tenantNames = Object.keys(tenants) as Tenant[]

let urns: string[] = []

beforeAll(async () => {
  await Promise.all([unwrap(program.dashboardName), unwrap(globex.dashboardName)])
  // Waits until every registration the program started has reached the mock monitor.
  await pulumi.runtime.disconnect()
  urns = registeredUrns()
})

function of(tenant: Tenant): RecordedResource[] {
  return recorder.resources.filter((r) => r.name === tenant || r.name.startsWith(`${tenant}-`))
}
const state = (r: RecordedResource, field: string) => text(r.state[field], `${r.name}.${field}`)
const keyArn = (tenant: Tenant) => state(one(of(tenant), "aws:kms/key:Key", `${tenant}-key`), "arn")
const bucketOf = (tenant: Tenant) => one(of(tenant), "aws:s3/bucket:Bucket", `${tenant}-uploads`)
const queuesOf = (tenant: Tenant) => ofType(of(tenant), "aws:sqs/queue:Queue")
const isDeadLetter = (q: RecordedResource) => q.name.endsWith("-dlq")
const containerOf = (tenant: Tenant, kind: string) =>
  record(list(json(one(of(tenant), "aws:ecs/taskDefinition:TaskDefinition", `${tenant}-${kind}-task`).inputs.containerDefinitions))[0])
const forBucket = (tenant: Tenant, type: string) => {
  const found = ofType(of(tenant), type).filter((r) => r.inputs.bucket === bucketOf(tenant).id)
  expect(found).toHaveLength(1)
  return found[0] as RecordedResource
}

describe.each(tenantNames)("tenant %s", (tenant) => {
  test("the uploads bucket blocks all public access", () => {
    const block = forBucket(tenant, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    expect(block.blockPublicAcls).toBe(true)
    expect(block.blockPublicPolicy).toBe(true)
    expect(block.ignorePublicAcls).toBe(true)
    expect(block.restrictPublicBuckets).toBe(true)
  })

  test("the uploads bucket is encrypted with the tenant's KMS key", () => {
    const config = forBucket(tenant, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    const rules = list(config.inputs.rules).map((r) => record(r))
    expect(rules).toHaveLength(1)
    const rule = rules[0] ?? {}
    const byDefault = record(rule.applyServerSideEncryptionByDefault)
    expect(byDefault.sseAlgorithm).toBe("aws:kms")
    expect(byDefault.kmsMasterKeyId).toBe(keyArn(tenant))
    expect(rule.bucketKeyEnabled).toBe(true)
    const versioning = forBucket(tenant, "aws:s3/bucketVersioning:BucketVersioning")
    expect(record(versioning.inputs.versioningConfiguration).status).toBe("Enabled")
  })

  test("the tenant's KMS key rotates", () => {
    const key = one(of(tenant), "aws:kms/key:Key", `${tenant}-key`)
    expect(key.inputs.enableKeyRotation).toBe(true)
  })

  test("the bucket policy denies non-TLS requests", () => {
    const bucketArn = state(bucketOf(tenant), "arn")
    const policy = statements(forBucket(tenant, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy)
    const denial = policy.find((s) => {
      const bool = s.Condition.Bool === undefined ? {} : record(s.Condition.Bool)
      return s.Effect === "Deny" && bool["aws:SecureTransport"] === "false"
    })
    expect(denial).toBeDefined()
    expect(denial?.Principal).toBe("*")
    expect(denial?.Action).toContain("s3:*")
    expect(denial?.Resource.sort()).toEqual([bucketArn, `${bucketArn}/*`].sort())
  })

  test("lifecycle aborts incomplete multipart uploads and expires files", () => {
    const rules = list(forBucket(tenant, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules).map((r) => record(r))
    for (const rule of rules) expect(rule.status).toBe("Enabled")
    const prefixOf = (rule: Record<string, unknown>) => (rule.filter === undefined ? "" : (record(rule.filter).prefix ?? ""))
    const wholeBucket = rules.filter((r) => prefixOf(r) === "")
    const abortsAfterOneDay = (r: Record<string, unknown>) =>
      r.abortIncompleteMultipartUpload !== undefined && record(r.abortIncompleteMultipartUpload).daysAfterInitiation === 1
    expect(wholeBucket.some(abortsAfterOneDay)).toBe(true)
    const byPrefix = (prefix: string) => {
      const rule = rules.find((r) => prefixOf(r) === prefix)
      if (!rule) throw new Error(`no lifecycle rule for ${prefix}`)
      return rule
    }
    expect(record(byPrefix("pending/").expiration).days).toBe(1)
    const uploads = byPrefix("uploads/")
    expect(record(uploads.expiration).days).toBe(tenants[tenant].fileRetentionDays)
    expect(record(uploads.noncurrentVersionExpiration).noncurrentDays).toBeGreaterThan(0)
    // Versioned deletes leave noncurrent versions: something must expire them everywhere.
    expect(wholeBucket.some((r) => r.noncurrentVersionExpiration !== undefined)).toBe(true)
  })

  test("browsers may upload to the bucket only from the app's origin", async () => {
    const rules = list(forBucket(tenant, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").inputs.corsRules).map((r) => record(r))
    const appUrl = tenant === "acme" ? await unwrap(program.appUrl) : await unwrap(globex.appUrl)
    expect(rules).toHaveLength(1)
    expect(strings(rules[0]?.allowedMethods).sort()).toEqual(["POST", "PUT"])
    expect(strings(rules[0]?.allowedOrigins)).toEqual([appUrl])
  })

  test("every queue has a dead-letter queue with a redrive policy", () => {
    const queues = queuesOf(tenant)
    const main = queues.filter((q) => !isDeadLetter(q))
    const deadLetters = queues.filter(isDeadLetter)
    expect(main.map((q) => q.inputs.name).sort()).toEqual([`scopeline-${tenant}-export`, `scopeline-${tenant}-match`, `scopeline-${tenant}-parse`])
    const targets = main.map((q) => {
      const redrive = record(json(q.inputs.redrivePolicy, `${q.name}.redrivePolicy`))
      // Exports retry twice whatever the tenant's setting: the app counts the same (EXPORT_MAX_RECEIVES).
      expect(redrive.maxReceiveCount).toBe(q.name.endsWith("-export") ? EXPORT_MAX_RECEIVES : tenants[tenant].maxReceiveCount)
      const target = deadLetters.find((d) => state(d, "arn") === redrive.deadLetterTargetArn)
      expect(target?.name).toBe(`${q.name}-dlq`)
      return redrive.deadLetterTargetArn
    })
    // One dead-letter queue per queue, not a shared one, and no dead-letter queue redrives further.
    expect(new Set(targets).size).toBe(main.length)
    for (const dlq of deadLetters) {
      expect(dlq.inputs.redrivePolicy).toBeUndefined()
      expect(dlq.inputs.messageRetentionSeconds).toBe(14 * 24 * 3600)
    }
    const timeout = (kind: string) => one(queues, "aws:sqs/queue:Queue", `${tenant}-${kind}`).inputs.visibilityTimeoutSeconds
    expect(timeout("parse")).toBe(300)
    expect(timeout("match")).toBe(120)
    expect(timeout("export")).toBe(900)
  })

  test("every queue is encrypted", () => {
    const queues = queuesOf(tenant)
    expect(queues).toHaveLength(6)
    for (const queue of queues) expect(queue.inputs.kmsMasterKeyId).toBe(keyArn(tenant))
  })

  test("every dead-letter queue has an alarm", () => {
    const topicArn = state(one(of(tenant), "aws:sns/topic:Topic", `${tenant}-alarms`), "arn")
    const alarms = ofType(of(tenant), "aws:cloudwatch/metricAlarm:MetricAlarm")
    const deadLetters = queuesOf(tenant).filter(isDeadLetter)
    expect(deadLetters).toHaveLength(3)
    for (const dlq of deadLetters) {
      const alarm = alarms.find(
        (a) =>
          a.inputs.metricName === "ApproximateNumberOfMessagesVisible" &&
          a.inputs.dimensions !== undefined &&
          record(a.inputs.dimensions).QueueName === dlq.inputs.name,
      )
      if (!alarm) throw new Error(`no alarm on ${dlq.name}`)
      const { threshold, comparisonOperator, period, evaluationPeriods, datapointsToAlarm } = alarm.inputs
      expect(threshold).toBe(0)
      expect(comparisonOperator).toBe("GreaterThanThreshold")
      // "More than zero for five minutes": every datapoint in a 300-second window must breach.
      expect(Number(period) * Number(evaluationPeriods)).toBe(300)
      expect(datapointsToAlarm ?? evaluationPeriods).toBe(evaluationPeriods)
      expect(strings(alarm.inputs.alarmActions)).toEqual([topicArn])
    }
  })

  test("every paging alarm notifies the tenant's alarm topic by email", () => {
    const topic = one(of(tenant), "aws:sns/topic:Topic", `${tenant}-alarms`)
    const subscription = one(of(tenant), "aws:sns/topicSubscription:TopicSubscription", `${tenant}-alarms-email`)
    expect(subscription.inputs.protocol).toBe("email")
    expect(subscription.inputs.endpoint).toBe(tenant === "acme" ? "ops@acme.example" : "ops@globex.example")
    const paging = ofType(of(tenant), "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => !a.name.includes("worker-backlog"))
    // Three dead-letter alarms (parse, match, export), three oldest-message alarms, one 5xx-rate alarm.
    expect(paging).toHaveLength(7)
    for (const alarm of paging) expect(strings(alarm.inputs.alarmActions)).toEqual([state(topic, "arn")])
  })

  test("no IAM statement grants '*' unless marked as required", () => {
    const documents = policyDocuments(of(tenant))
    expect(documents.length).toBeGreaterThanOrEqual(8)
    const offending = documents.flatMap(({ resource, policy }) =>
      unmarkedWildcardGrants(statements(policy)).map((s) => `${resource}: ${JSON.stringify(s)}`),
    )
    expect(offending).toEqual([])
    // AWS-managed policies would hide their statements from this check.
    expect(ofType(of(tenant), "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([])
    const marked = documents.flatMap(({ policy }) => statements(policy)).filter((s) => s.Sid?.startsWith("RequiredWildcard"))
    expect(marked.some((s) => s.Action.includes("ecr:GetAuthorizationToken"))).toBe(true)
  })

  test("the server touches only uploads/, pending/ and (to sign downloads) exports/ objects, and reaches queues only to replay dead letters", () => {
    const policy = statements(one(of(tenant), "aws:iam/rolePolicy:RolePolicy", `${tenant}-server-task-policy`).inputs.policy)
    const bucketArn = state(bucketOf(tenant), "arn")
    const queueArn = (name: string) => state(one(of(tenant), "aws:sqs/queue:Queue", `${tenant}-${name}`), "arn")
    const deadLetterArns = ofType(of(tenant), "aws:sqs/queue:Queue")
      .filter((q) => q.name.endsWith("-dlq"))
      .map((q) => state(q, "arn"))
      .sort()
    expect(deadLetterArns).toHaveLength(3)
    const s3 = policy.filter((s) => s.Action.some((a) => a.startsWith("s3:")))
    expect(s3.flatMap((s) => s.Resource).sort()).toEqual([`${bucketArn}/exports/*`, `${bucketArn}/pending/*`, `${bucketArn}/uploads/*`])
    // Only reads of exports: the presigned download link carries this permission.
    expect(s3.filter((s) => s.Resource.includes(`${bucketArn}/exports/*`)).flatMap((s) => s.Action)).toEqual(["s3:GetObject"])
    const sends = policy.filter((s) => s.Action.includes("sqs:SendMessage"))
    expect(sends.flatMap((s) => s.Resource).sort()).toEqual([queueArn("export"), queueArn("match"), queueArn("parse")].sort())
    // Receiving and deleting: only on the dead-letter queues (the ops page peeks and replays), never the work queues.
    const consuming = policy.filter((s) => s.Action.some((a) => a === "sqs:ReceiveMessage" || a === "sqs:DeleteMessage"))
    expect(consuming.flatMap((s) => s.Resource).sort()).toEqual(deadLetterArns)
  })

  test("only the server runs the team in Cognito, on the tenant's own pool, with the admin calls it makes", () => {
    const policyOf = (kind: string) =>
      statements(one(of(tenant), "aws:iam/rolePolicy:RolePolicy", `${tenant}-${kind}-task-policy`).inputs.policy)
    const poolArn = state(one(of(tenant), "aws:cognito/userPool:UserPool", `${tenant}-users`), "arn")
    const cognito = policyOf("server").filter((s) => s.Action.some((a) => a.startsWith("cognito-idp:")))
    expect(cognito.flatMap((s) => s.Resource)).toEqual([poolArn])
    expect(cognito.flatMap((s) => s.Action).sort()).toEqual([
      "cognito-idp:AdminAddUserToGroup",
      "cognito-idp:AdminCreateUser",
      "cognito-idp:AdminDeleteUser",
      "cognito-idp:AdminDisableUser",
      "cognito-idp:AdminEnableUser",
      "cognito-idp:AdminRemoveUserFromGroup",
    ])
    for (const worker of ["parse-worker", "match-worker"]) {
      expect(policyOf(worker).flatMap((s) => s.Action).filter((a) => a.startsWith("cognito-idp:"))).toEqual([])
    }
  })

  test("each worker role consumes only its own queues; only the parse worker reads uploads and writes exports", () => {
    const policyOf = (kind: string) =>
      statements(one(of(tenant), "aws:iam/rolePolicy:RolePolicy", `${tenant}-${kind}-task-policy`).inputs.policy)
    const bucketArn = state(bucketOf(tenant), "arn")
    const arn = (name: string) => state(one(of(tenant), "aws:sqs/queue:Queue", `${tenant}-${name}`), "arn")
    const resourcesFor = (policy: ReturnType<typeof policyOf>, action: string) =>
      policy.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource).sort()
    // The one shared worker role is gone.
    expect(ofType(of(tenant), "aws:iam/role:Role").map((r) => r.name)).not.toContain(`${tenant}-worker-task`)

    const parse = policyOf("parse-worker")
    const match = policyOf("match-worker")
    for (const policy of [parse, match]) {
      const actions = policy.flatMap((s) => s.Action)
      expect(actions).not.toContain("s3:DeleteObject")
      // Every worker process runs the outbox relay, which sends parse, match and export jobs alike.
      expect(resourcesFor(policy, "sqs:SendMessage")).toEqual([arn("export"), arn("match"), arn("parse")].sort())
      expect(resourcesFor(policy, "kms:Decrypt")).toEqual([keyArn(tenant)])
      expect(resourcesFor(policy, "kms:GenerateDataKey")).toEqual([keyArn(tenant)])
    }
    expect(resourcesFor(parse, "s3:GetObject")).toEqual([`${bucketArn}/pending/*`, `${bucketArn}/uploads/*`])
    expect(match.flatMap((s) => s.Action).filter((a) => a.startsWith("s3:"))).toEqual([])
    expect(resourcesFor(parse, "s3:PutObject")).toEqual([`${bucketArn}/exports/*`])
    expect(resourcesFor(match, "s3:PutObject")).toEqual([])
    for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]) {
      expect(resourcesFor(parse, action)).toEqual([arn("export"), arn("parse")].sort())
      expect(resourcesFor(match, action)).toEqual([arn("match")])
    }
    const taskRoleOf = (kind: string) => one(of(tenant), "aws:ecs/taskDefinition:TaskDefinition", `${tenant}-${kind}-task`).inputs.taskRoleArn
    const roleArn = (kind: string) => state(one(of(tenant), "aws:iam/role:Role", `${tenant}-${kind}-task`), "arn")
    expect(taskRoleOf("parse-worker")).toBe(roleArn("parse-worker"))
    expect(taskRoleOf("match-worker")).toBe(roleArn("match-worker"))
  })

  test("Cognito has the admin, accountant and viewer groups", () => {
    const pool = one(of(tenant), "aws:cognito/userPool:UserPool", `${tenant}-users`)
    expect(strings(pool.inputs.usernameAttributes)).toEqual(["email"])
    expect(pool.inputs.mfaConfiguration).toBe("OPTIONAL")
    expect(record(pool.inputs.adminCreateUserConfig).allowAdminCreateUserOnly).toBe(true)
    const groups = ofType(of(tenant), "aws:cognito/userGroup:UserGroup")
    for (const group of groups) expect(group.inputs.userPoolId).toBe(pool.id)
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(["accountant", "admin", "viewer"])
    const client = one(of(tenant), "aws:cognito/userPoolClient:UserPoolClient", `${tenant}-app-client`)
    expect(client.inputs.generateSecret).toBe(false)
    expect(strings(client.inputs.explicitAuthFlows).sort()).toEqual(["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"])
  })

  test("the database is encrypted and keeps backups", () => {
    const cluster = one(of(tenant), "aws:rds/cluster:Cluster", `${tenant}-db`).inputs
    expect(cluster.engine).toBe("aurora-postgresql")
    expect(cluster.engineMode).toBe("provisioned")
    expect(cluster.storageEncrypted).toBe(true)
    expect(cluster.kmsKeyId).toBe(keyArn(tenant))
    expect(cluster.backupRetentionPeriod).toBe(tenants[tenant].backupRetentionDays)
    expect(cluster.deletionProtection).toBe(true)
    expect(cluster.skipFinalSnapshot).toBe(false)
    expect(text(cluster.finalSnapshotIdentifier)).toContain(tenant)
    // The password is generated and kept by RDS in Secrets Manager, never set by us.
    expect(cluster.manageMasterUserPassword).toBe(true)
    expect(cluster.masterPassword).toBeUndefined()
    expect(record(cluster.serverlessv2ScalingConfiguration).maxCapacity).toBeGreaterThan(0)
    const instance = one(of(tenant), "aws:rds/clusterInstance:ClusterInstance", `${tenant}-db-1`).inputs
    expect(instance.instanceClass).toBe("db.serverless")
    expect(instance.publiclyAccessible).toBe(false)
  })

  test("only the tasks reach the database, and only on 5432", () => {
    const group = (suffix: string) => one(of(tenant), "aws:ec2/securityGroup:SecurityGroup", `${tenant}-${suffix}-sg`).id
    const ingress = ofType(of(tenant), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    const toDatabase = ingress.filter((r) => r.inputs.securityGroupId === group("db"))
    expect(toDatabase.length).toBe(2)
    for (const rule of toDatabase) {
      expect([rule.inputs.fromPort, rule.inputs.toPort]).toEqual([5432, 5432])
      expect(rule.inputs.cidrIpv4).toBeUndefined()
      expect([group("server"), group("worker")]).toContain(text(rule.inputs.referencedSecurityGroupId))
    }
    const toServer = ingress.filter((r) => r.inputs.securityGroupId === group("server"))
    expect(toServer.map((r) => [r.inputs.fromPort, r.inputs.referencedSecurityGroupId])).toEqual([[3000, group("alb")]])
    expect(ingress.filter((r) => r.inputs.securityGroupId === group("worker"))).toEqual([])
  })

  test("object-created events go to the parse queue", () => {
    const parse = one(of(tenant), "aws:sqs/queue:Queue", `${tenant}-parse`)
    const notification = forBucket(tenant, "aws:s3/bucketNotification:BucketNotification")
    const targets = list(notification.inputs.queues).map((q) => record(q))
    expect(targets).toHaveLength(1)
    expect(targets[0]?.queueArn).toBe(state(parse, "arn"))
    expect(strings(targets[0]?.events)).toEqual(["s3:ObjectCreated:*"])
    expect(targets[0]?.filterPrefix).toBe("uploads/")
    const queuePolicy = ofType(of(tenant), "aws:sqs/queuePolicy:QueuePolicy").find((p) => p.inputs.queueUrl === state(parse, "url"))
    const allow = statements(queuePolicy?.inputs.policy).find((s) => s.Action.includes("sqs:SendMessage"))
    expect(allow?.Principal).toEqual({ Service: "s3.amazonaws.com" })
    expect(record(allow?.Condition.ArnEquals)["aws:SourceArn"]).toBe(state(bucketOf(tenant), "arn"))
  })

  test("containers receive the app's environment contract and database credentials as secrets", () => {
    const expected = [
      "AUTH", "AWS_REGION", "BLOB_STORE", "COGNITO_CLIENT_ID", "COGNITO_REGION", "COGNITO_USER_POOL_ID", "LOG_LEVEL",
      "MATCHER_URL", "PGDATABASE", "PGHOST", "PGPORT", "PGSSLMODE", "PORT", "PUBLIC_URL", "QUEUE", "QUEUE_MAX_RECEIVES", "S3_BUCKET",
      "SCOPELINE_ENVIRONMENT", "SQS_EXPORT_DLQ_URL", "SQS_EXPORT_QUEUE_URL", "SQS_MATCH_DLQ_URL", "SQS_MATCH_QUEUE_URL", "SQS_PARSE_DLQ_URL", "SQS_PARSE_QUEUE_URL", "TRUSTED_PROXY", "WEBHOOK_TARGETS",
    ]
    const secretArn = text(record(list(one(of(tenant), "aws:rds/cluster:Cluster", `${tenant}-db`).state.masterUserSecrets)[0]).secretArn)
    for (const [kind, app] of [["server", "server"], ["parse-worker", "worker"], ["match-worker", "worker"]] as const) {
      const definitions = list(json(one(of(tenant), "aws:ecs/taskDefinition:TaskDefinition", `${tenant}-${kind}-task`).inputs.containerDefinitions))
      const container = record(definitions[0])
      expect(strings(container.command)).toEqual(["bun", `apps/${app}/src/main.ts`])
      const env = Object.fromEntries(list(container.environment).map((e) => [text(record(e).name), text(record(e).value)]))
      expect(Object.keys(env).sort()).toEqual(app === "worker" ? [...expected, "WORKER_QUEUES"].sort() : expected)
      expect(env).toMatchObject({ PORT: "3000", BLOB_STORE: "s3", QUEUE: "sqs", AUTH: "cognito", LOG_LEVEL: "Info", PGPORT: "5432" })
      expect(env.S3_BUCKET).toBe(bucketOf(tenant).id)
      // Every audit event names the tenant's stack as its environment.
      expect(env.SCOPELINE_ENVIRONMENT).toBe(tenant)
      expect(env.WEBHOOK_TARGETS).toBe("public")
      expect(env.SQS_PARSE_QUEUE_URL).toBe(state(one(of(tenant), "aws:sqs/queue:Queue", `${tenant}-parse`), "url"))
      expect(env.MATCHER_URL).toBe(tenant === "acme" ? "https://matcher.example.com" : globexConfig.matcherUrl)
      const secrets = Object.fromEntries(list(container.secrets).map((e) => [text(record(e).name), text(record(e).valueFrom)]))
      expect(secrets.PGUSER).toBe(`${secretArn}:username::`)
      expect(secrets.PGPASSWORD).toBe(`${secretArn}:password::`)
      // Secrets never travel as plain environment.
      expect(Object.keys(env).some((name) => /PASSWORD|SECRET|API_KEY/.test(name))).toBe(false)
    }
  })

  test("every setting the apps read without a safe default in AWS is given to each container, and none meant only for local runs", () => {
    for (const [kind, app] of [["server", "server"], ["parse-worker", "worker"], ["match-worker", "worker"]] as const) {
      const container = containerOf(tenant, kind)
      const given = [
        ...list(container.environment).map((e) => text(record(e).name)),
        ...list(container.secrets).map((e) => text(record(e).name)),
      ]
      const undeclared = given.filter((name) => !(settingNames as ReadonlyArray<string>).includes(name))
      expect(undeclared).toEqual([])
      const needed = settingNames.filter((name) => declaration(name).aws === "stack" && declaration(name).readBy.includes(app))
      expect(needed.filter((name) => !given.includes(name))).toEqual([])
      expect(given.filter((name) => settingNames.some((n) => n === name && declaration(n).aws === "local"))).toEqual([])
    }
  })

  test("QUEUE_MAX_RECEIVES of every container equals the queues' redrive maxReceiveCount", () => {
    const counts = queuesOf(tenant)
      .filter((q) => !isDeadLetter(q))
      .map((q) => record(json(q.inputs.redrivePolicy, `${q.name}.redrivePolicy`)).maxReceiveCount)
    // The export queue keeps its own three deliveries (EXPORT_MAX_RECEIVES, which the app applies to it).
    expect(counts).toEqual([tenants[tenant].maxReceiveCount, tenants[tenant].maxReceiveCount, EXPORT_MAX_RECEIVES])
    for (const kind of ["server", "parse-worker", "match-worker"]) {
      const env = list(containerOf(tenant, kind).environment).map((e) => record(e))
      expect(env.filter((e) => e.name === "QUEUE_MAX_RECEIVES").map((e) => e.value)).toEqual([String(tenants[tenant].maxReceiveCount)])
    }
  })

  test("the server sits behind the load balancer with a /healthz health check", () => {
    const targetGroup = one(of(tenant), "aws:lb/targetGroup:TargetGroup", `${tenant}-server-tg`)
    expect(record(targetGroup.inputs.healthCheck).path).toBe("/healthz")
    expect(targetGroup.inputs.port).toBe(3000)
    const service = one(of(tenant), "aws:ecs/service:Service", `${tenant}-server`)
    const [binding] = list(service.inputs.loadBalancers).map((b) => record(b))
    expect(binding?.targetGroupArn).toBe(state(targetGroup, "arn"))
    expect(record(service.inputs.networkConfiguration).assignPublicIp).toBe(false)
  })

  test("log groups keep logs for the configured retention", () => {
    const groups = ofType(of(tenant), "aws:cloudwatch/logGroup:LogGroup")
    expect(groups).toHaveLength(2)
    for (const group of groups) expect(group.inputs.retentionInDays).toBe(tenants[tenant].logRetentionDays)
  })

  test("each worker service gets its WORKER_QUEUES", () => {
    const containerOf = (kind: string) =>
      record(list(json(one(of(tenant), "aws:ecs/taskDefinition:TaskDefinition", `${tenant}-${kind}-task`).inputs.containerDefinitions))[0])
    const workerQueuesOf = (kind: string) =>
      list(containerOf(kind).environment).map((e) => record(e)).filter((e) => e.name === "WORKER_QUEUES").map((e) => e.value)
    expect(workerQueuesOf("parse-worker")).toEqual(["parse,export"])
    expect(workerQueuesOf("match-worker")).toEqual(["match"])
    expect(workerQueuesOf("server")).toEqual([])
    // Same image and command: only the environment tells the two worker services apart.
    expect(containerOf("parse-worker").image).toBe(containerOf("match-worker").image)
    expect(strings(containerOf("parse-worker").command)).toEqual(strings(containerOf("match-worker").command))
    // The one worker service is gone; its log group now holds both services' streams.
    const services = ofType(of(tenant), "aws:ecs/service:Service").map((s) => s.inputs.name).sort()
    expect(services).toEqual([`scopeline-${tenant}-match-worker`, `scopeline-${tenant}-parse-worker`, `scopeline-${tenant}-server`])
    const workerLogs = state(one(of(tenant), "aws:cloudwatch/logGroup:LogGroup", `${tenant}-worker-logs`), "name")
    for (const kind of ["parse-worker", "match-worker"]) {
      const options = record(record(containerOf(kind).logConfiguration).options)
      expect(options["awslogs-group"]).toBe(workerLogs)
      expect(options["awslogs-stream-prefix"]).toBe(kind)
    }
  })

  test("the parse worker scales on parse queue depth", () => {
    const targets = ofType(of(tenant), "aws:appautoscaling/target:Target")
    expect(targets).toHaveLength(1)
    const target = one(of(tenant), "aws:appautoscaling/target:Target", `${tenant}-parse-worker-scaling`)
    expect(target.inputs.resourceId).toBe(`service/scopeline-${tenant}-cluster/scopeline-${tenant}-parse-worker`)
    expect(target.inputs.minCapacity).toBe(tenantDefaults.workerMinCount)
    expect(target.inputs.maxCapacity).toBe(tenantDefaults.workerMaxCount)
    const queueNames = (alarm: RecordedResource) =>
      list(alarm.inputs.metricQueries)
        .map((q) => record(q))
        .flatMap((q) => (q.metric ? [record(q.metric)] : []))
        .map((m) => [m.metricName, record(m.dimensions).QueueName])
    const scaleOut = one(of(tenant), "aws:cloudwatch/metricAlarm:MetricAlarm", `${tenant}-parse-worker-backlog-high`)
    expect(queueNames(scaleOut)).toEqual([["ApproximateNumberOfMessagesVisible", `scopeline-${tenant}-parse`]])
    const scaleIn = one(of(tenant), "aws:cloudwatch/metricAlarm:MetricAlarm", `${tenant}-parse-worker-backlog-empty`)
    expect(queueNames(scaleIn).sort()).toEqual(
      [
        ["ApproximateNumberOfMessagesNotVisible", `scopeline-${tenant}-parse`],
        ["ApproximateNumberOfMessagesVisible", `scopeline-${tenant}-parse`],
      ].sort(),
    )
    const policy = one(of(tenant), "aws:appautoscaling/policy:Policy", `${tenant}-parse-worker-scale-out`)
    expect(strings(scaleOut.inputs.alarmActions)).toEqual([state(policy, "arn")])
    const service = one(of(tenant), "aws:ecs/service:Service", `${tenant}-parse-worker`)
    expect(service.inputs.desiredCount).toBe(tenantDefaults.workerMinCount)
  })

  test("exactly one match worker runs, without autoscaling", () => {
    const service = one(of(tenant), "aws:ecs/service:Service", `${tenant}-match-worker`)
    expect(service.inputs.desiredCount).toBe(1)
    // A deploy stops the old task before starting the new one: never two match tasks side by side.
    expect(service.inputs.deploymentMaximumPercent).toBe(100)
    expect(service.inputs.deploymentMinimumHealthyPercent).toBe(0)
    const resourceId = `service/scopeline-${tenant}-cluster/scopeline-${tenant}-match-worker`
    expect(ofType(of(tenant), "aws:appautoscaling/target:Target").filter((t) => t.inputs.resourceId === resourceId)).toEqual([])
    // Nothing scales on the match queue.
    const scaling = ofType(of(tenant), "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.includes("worker-backlog"))
    const scaledOn = scaling.flatMap((a) =>
      list(a.inputs.metricQueries).map((q) => record(q)).flatMap((q) => (q.metric ? [record(record(q.metric).dimensions).QueueName] : [])),
    )
    expect(scaledOn).not.toContain(`scopeline-${tenant}-match`)
  })

  test("the dashboard's CPU and memory widgets cover the server and both worker services", () => {
    const dashboard = one(of(tenant), "aws:cloudwatch/dashboard:Dashboard", `${tenant}-dashboard`)
    const widgets = list(record(json(dashboard.inputs.dashboardBody)).widgets).map((w) => record(record(w).properties))
    for (const title of ["ECS CPU %", "ECS memory %"]) {
      const widget = widgets.find((w) => w.title === title)
      const serviceNames = list(widget?.metrics).map((m) => list(m)[5])
      expect(serviceNames).toEqual([`scopeline-${tenant}-server`, `scopeline-${tenant}-parse-worker`, `scopeline-${tenant}-match-worker`])
    }
  })

  test("every resource is a child of the tenant's TenantStack and named after it", () => {
    const mine = urns.filter((urn) => {
      const name = urn.split("::").pop() ?? ""
      return name === tenant || name.startsWith(`${tenant}-`)
    })
    expect(mine.length).toBe(of(tenant).length)
    for (const urn of mine) {
      const type = urn.split("::")[2] ?? ""
      if (type === "scopeline:tenant:TenantStack") continue
      expect(type.startsWith("scopeline:tenant:TenantStack$")).toBe(true)
    }
  })
})

test("with a certificate, plain HTTP redirects to HTTPS", () => {
  const listeners = ofType(of("globex"), "aws:lb/listener:Listener")
  const https = listeners.find((l) => l.inputs.port === 443)
  expect(https?.inputs.protocol).toBe("HTTPS")
  expect(https?.inputs.certificateArn).toBe(globexConfig.certificateArn)
  const http = listeners.find((l) => l.inputs.port === 80)
  const [action] = list(http?.inputs.defaultActions).map((a) => record(a))
  expect(action?.type).toBe("redirect")
  expect(record(action?.redirect).protocol).toBe("HTTPS")
  // Without one, HTTP forwards to the app.
  const acmeListeners = ofType(of("acme"), "aws:lb/listener:Listener")
  expect(acmeListeners.map((l) => l.inputs.port)).toEqual([80])
})

test("the matcher's own port is the only extra way out of the tasks", () => {
  const egressPorts = (tenant: Tenant) =>
    [
      ...new Set(
        ofType(of(tenant), "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
          .filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0")
          .map((r) => r.inputs.fromPort),
      ),
    ].sort()
  expect(egressPorts("acme")).toEqual([443])
  expect(egressPorts("globex")).toEqual([443, 8080])
})

test("a matcher API key is stored in Secrets Manager and injected, never in plain env", () => {
  const secret = one(of("acme"), "aws:secretsmanager/secret:Secret", "acme-matcher-api-key")
  const container = (kind: string) =>
    record(list(json(one(of("acme"), "aws:ecs/taskDefinition:TaskDefinition", `acme-${kind}-task`).inputs.containerDefinitions))[0])
  const matcherKey = (kind: string) => list(container(kind).secrets).map((s) => record(s)).find((s) => s.name === "MATCHER_API_KEY")
  expect(matcherKey("match-worker")?.valueFrom).toBe(state(secret, "arn"))
  // Only the match worker calls the matcher; the parse worker does not receive its key.
  expect(matcherKey("parse-worker")).toBeUndefined()
  // globex set no key, so it gets no secret.
  expect(ofType(of("globex"), "aws:secretsmanager/secret:Secret")).toEqual([])
})

test("two tenants' stacks share no physical names", () => {
  // Cognito group names are scoped to their user pool and must literally be the app's role names.
  const scopedByParent = new Set(["aws:cognito/userGroup:UserGroup"])
  const physical = (tenant: Tenant) =>
    of(tenant)
      .filter((r) => r.custom && !scopedByParent.has(r.type))
      .flatMap((r) => {
        const explicit = explicitNames(r.inputs)
        for (const name of explicit) expect(name).toContain(tenant)
        // Without an explicit name the engine derives one from the (tenant-prefixed) logical name.
        return explicit.length > 0 ? explicit : [r.id]
      })
  const acme = physical("acme")
  const globexNames = physical("globex")
  expect(acme.length).toBeGreaterThan(50)
  expect(acme.filter((name) => globexNames.includes(name))).toEqual([])
  const bucketNames = tenantNames.map((t) => bucketOf(t).id)
  expect(new Set(bucketNames).size).toBe(2)
})

test("the program exports the stack outputs", async () => {
  const outputs = await Promise.all([
    unwrap(program.appUrl),
    unwrap(program.bucketName),
    unwrap(program.parseQueueUrl),
    unwrap(program.matchQueueUrl),
    unwrap(program.parseDeadLetterQueueUrl),
    unwrap(program.matchDeadLetterQueueUrl),
    unwrap(program.userPoolId),
    unwrap(program.userPoolClientId),
    unwrap(program.dashboardName),
  ])
  for (const output of outputs) expect(output.length).toBeGreaterThan(0)
  expect(outputs[0]).toStartWith("http://")
  expect(outputs[8]).toBe("scopeline-acme-operations")
})

test("the wildcard check rejects an unmarked grant", () => {
  // Guards the guard: the policy test above must be able to fail.
  const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] })
  expect(unmarkedWildcardGrants(statements(policy))).toHaveLength(1)
  const marked = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "RequiredWildcardX", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }],
  })
  expect(unmarkedWildcardGrants(statements(marked))).toHaveLength(0)
})
