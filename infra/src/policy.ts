import * as pulumi from "@pulumi/pulumi"

/**
 * Every Allow statement whose Action or Resource is a wildcard must carry a Sid with this prefix, next to a
 * comment saying why AWS leaves no narrower choice. The unit tests reject any other wildcard grant, so a
 * broad permission can only arrive on purpose and in plain sight.
 */
export const requiredWildcardSid = "RequiredWildcard"

type StringOrList = pulumi.Input<string> | pulumi.Input<string>[]

export interface PolicyStatement {
  readonly Sid?: string
  readonly Effect: "Allow" | "Deny"
  readonly Principal?: "*" | { readonly AWS?: StringOrList; readonly Service?: StringOrList }
  readonly Action: string | string[]
  /** Absent only in trust (assume-role) policies, which name no resource. */
  readonly Resource?: StringOrList
  readonly Condition?: Record<string, Record<string, StringOrList>>
}

export interface PolicyDocument {
  readonly Version: "2012-10-17"
  readonly Statement: PolicyStatement[]
}

export function policyDocument(...statements: PolicyStatement[]): pulumi.Output<string> {
  const document: PolicyDocument = { Version: "2012-10-17", Statement: statements }
  return pulumi.jsonStringify(document)
}

/** Trust policy for ECS tasks of this account only (blocks confused-deputy use from other accounts). */
export function ecsTasksTrustPolicy(accountId: pulumi.Input<string>): pulumi.Output<string> {
  return policyDocument({
    Effect: "Allow",
    Principal: { Service: "ecs-tasks.amazonaws.com" },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": accountId } },
  })
}
