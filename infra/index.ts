import * as pulumi from "@pulumi/pulumi"
import { loadTenantConfig } from "./src/config.ts"
import { TenantStack } from "./src/TenantStack.ts"

// One stack per tenant: the stack name is the tenant (`pulumi stack init acme` → Pulumi.acme.yaml).
const config = loadTenantConfig(new pulumi.Config(), pulumi.getStack())
const tenant = new TenantStack(config.tenant, config)

export const appUrl = tenant.appUrl
export const bucketName = tenant.bucketName
export const parseQueueUrl = tenant.parseQueueUrl
export const matchQueueUrl = tenant.matchQueueUrl
export const parseDeadLetterQueueUrl = tenant.parseDeadLetterQueueUrl
export const matchDeadLetterQueueUrl = tenant.matchDeadLetterQueueUrl
export const exportQueueUrl = tenant.exportQueueUrl
export const exportDeadLetterQueueUrl = tenant.exportDeadLetterQueueUrl
export const userPoolId = tenant.userPoolId
export const userPoolClientId = tenant.userPoolClientId
export const dashboardName = tenant.dashboardName
export const repositoryUrl = tenant.repositoryUrl
export const clusterName = tenant.clusterName
export const databaseEndpoint = tenant.databaseEndpoint
export const databaseSecretArn = tenant.databaseSecretArn
export const alarmTopicArn = tenant.alarmTopicArn
