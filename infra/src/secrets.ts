import * as aws from "@pulumi/aws"
import type * as pulumi from "@pulumi/pulumi"
import { childOptions, physicalName, type Scope } from "./scope.ts"

/**
 * Stores the matcher API key (a Pulumi config secret) in Secrets Manager so ECS can inject it; the value
 * stays encrypted in Pulumi state and never appears in the task definition.
 */
export function createMatcherKeySecret(
  scope: Scope,
  key: aws.kms.Key,
  value: pulumi.Output<string>,
): aws.secretsmanager.Secret {
  const secret = new aws.secretsmanager.Secret(
    `${scope.name}-matcher-api-key`,
    {
      name: physicalName(scope, "matcher-api-key"),
      kmsKeyId: key.arn,
      // A deleted secret can be restored for a week, in case a destroy was a mistake.
      recoveryWindowInDays: 7,
      tags: scope.tags,
    },
    childOptions(scope),
  )
  new aws.secretsmanager.SecretVersion(
    `${scope.name}-matcher-api-key-value`,
    { secretId: secret.id, secretString: value },
    childOptions(scope),
  )
  return secret
}
