import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { policyDocument, requiredWildcardSid } from "./policy.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

export interface TenantKey {
  readonly key: aws.kms.Key
  readonly alias: aws.kms.Alias
}

/**
 * One customer-managed key per tenant encrypts the database, its master secret, the bucket, the queues, the
 * image repository and the alarm topic. Disabling or scheduling deletion of this key cuts a tenant's data
 * off in one step (crypto-shredding), which a shared AWS-managed key could not do.
 */
export function createTenantKey(scope: Scope): TenantKey {
  const rootArn = pulumi.interpolate`arn:${scope.partition}:iam::${scope.accountId}:root`
  const key = new aws.kms.Key(
    `${scope.name}-key`,
    {
      description: `Scopeline tenant ${scope.tenant}: data at rest`,
      enableKeyRotation: true,
      // When someone does schedule deletion, a month remains to cancel it before the data is unreadable.
      deletionWindowInDays: 30,
      policy: policyDocument(
        {
          // RequiredWildcard: a key policy must grant the account root kms:* on Resource "*" ("this key"),
          // otherwise IAM policies cannot grant use of the key and it can become unmanageable.
          Sid: `${requiredWildcardSid}KeyPolicyAccountRoot`,
          Effect: "Allow",
          Principal: { AWS: rootArn },
          Action: "kms:*",
          Resource: "*",
        },
        {
          // RequiredWildcard: in a key policy Resource "*" means this key only. S3 must encrypt event
          // messages it sends to the KMS-encrypted parse queue.
          Sid: `${requiredWildcardSid}KeyPolicyS3Notifications`,
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: ["kms:GenerateDataKey", "kms:Decrypt"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": scope.accountId } },
        },
        {
          // RequiredWildcard: Resource "*" means this key only. CloudWatch alarms publish to the
          // KMS-encrypted alarm topic, which needs the service to use the key.
          Sid: `${requiredWildcardSid}KeyPolicyCloudWatchAlarms`,
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
        },
      ),
      tags: scope.tags,
    },
    // `pulumi destroy` leaves the key in place: the database's final snapshot is encrypted with it, and
    // deleting the key would make that snapshot unreadable. Operators delete it by hand once the snapshot
    // has expired (docs/operations.md, "Tearing a tenant down").
    childOptions(scope, { retainOnDelete: true }),
  )
  const alias = new aws.kms.Alias(
    `${scope.name}-key-alias`,
    { name: `alias/${physicalName(scope, "data")}`, targetKeyId: key.keyId },
    childOptions(scope),
  )
  return { key, alias }
}
