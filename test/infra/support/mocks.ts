import * as pulumi from "@pulumi/pulumi"
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks"

/** What the mocked engine was asked to create: the type token, logical name and resolved inputs. */
export interface RecordedResource {
  readonly type: string
  readonly name: string
  readonly custom: boolean
  readonly inputs: Record<string, unknown>
  /** The physical id the mock gave it (explicit name, or the logical name plus a fake auto-name suffix). */
  readonly id: string
  /** Outputs the mock returned: inputs plus computed attributes such as `arn` and `url`. */
  readonly state: Record<string, unknown>
}

export const account = "123456789012"
export const region = "eu-west-1"

// Properties through which a resource takes an explicit physical name.
const nameFields = [
  "name",
  "bucket",
  "clusterIdentifier",
  "identifier",
  "family",
  "dashboardName",
  "finalSnapshotIdentifier",
] as const

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
}

/** The explicit physical names a resource's inputs ask for (empty when the engine would auto-name it). */
export function explicitNames(inputs: Record<string, unknown>): string[] {
  return nameFields.flatMap((field) => {
    const value = inputs[field]
    return typeof value === "string" ? [value] : []
  })
}

function computedState(type: string, physical: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const service = type.split(":")[1]?.split("/")[0] ?? "unknown"
  const kind = type.split(":")[2] ?? "resource"
  const arn = `arn:aws:${service}:${region}:${account}:${kind.toLowerCase()}/${physical}`
  const state: Record<string, unknown> = { ...inputs, arn, name: inputs.name ?? physical }
  switch (type) {
    case "aws:sqs/queue:Queue":
      return { ...state, arn: `arn:aws:sqs:${region}:${account}:${physical}`, url: `https://sqs.${region}.amazonaws.com/${account}/${physical}` }
    case "aws:s3/bucket:Bucket":
      return { ...state, arn: `arn:aws:s3:::${physical}`, bucket: physical }
    case "aws:kms/key:Key":
      return { ...state, keyId: `${physical}-key-id`, arn: `arn:aws:kms:${region}:${account}:key/${physical}-key-id` }
    case "aws:rds/cluster:Cluster":
      return {
        ...state,
        endpoint: `${physical}.cluster-mock.${region}.rds.amazonaws.com`,
        port: inputs.port ?? 5432,
        masterUserSecrets: [
          {
            secretArn: `arn:aws:secretsmanager:${region}:${account}:secret:rds!cluster-${physical}`,
            kmsKeyId: String(inputs.kmsKeyId),
            secretStatus: "active",
          },
        ],
      }
    case "aws:lb/loadBalancer:LoadBalancer":
      return { ...state, dnsName: `${physical}.${region}.elb.amazonaws.com`, arnSuffix: `app/${physical}/0123456789abcdef` }
    case "aws:ecr/repository:Repository":
      return { ...state, repositoryUrl: `${account}.dkr.ecr.${region}.amazonaws.com/${physical}` }
    case "aws:cognito/userPool:UserPool":
      return { ...state, id: `${region}_${physical}` }
    default:
      return state
  }
}

/**
 * Mocks that stand in for the Pulumi engine and the AWS provider (no CLI, no plugins) and record every
 * resource the program registers, so tests can assert on what would be sent to AWS.
 */
export function createRecorder() {
  const resources: RecordedResource[] = []
  const mocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
      const inputs: Record<string, unknown> = isRecord(args.inputs) ? args.inputs : {}
      // Stands in for Pulumi's auto-naming: logical name plus a random-looking suffix.
      const physical = explicitNames(inputs)[0] ?? `${args.name}-a1b2c3d`
      const custom = args.custom ?? true
      const state = custom ? computedState(args.type, physical, inputs) : {}
      const id = args.type === "aws:cognito/userPool:UserPool" ? `${region}_${physical}` : physical
      resources.push({ type: args.type, name: args.name, custom, inputs, id, state })
      return { id, state }
    },
    call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
      switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: account, arn: `arn:aws:iam::${account}:user/test`, userId: "AIDATEST" }
        case "aws:index/getRegion:getRegion":
          return { name: region, region, id: region }
        case "aws:index/getPartition:getPartition":
          return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
          return { names: [`${region}a`, `${region}b`, `${region}c`], zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"], id: region }
        default:
          throw new Error(`unmocked call ${args.token}`)
      }
    },
  }
  return { resources, mocks }
}

/** Resolves an Output (or plain value) to its value; the mocks resolve every output, so this never hangs. */
export function unwrap<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => {
    pulumi.output(value).apply((resolved) => {
      resolve(resolved)
      return resolved
    })
  })
}

/** URNs of everything registered, which encode each resource's parent type chain. */
export function registeredUrns(): string[] {
  const monitor = pulumi.runtime.getMonitor()
  if (!(monitor instanceof MockMonitor)) throw new Error("the mocks are not installed")
  return [...monitor.getRegisteredResources().keys()]
}
