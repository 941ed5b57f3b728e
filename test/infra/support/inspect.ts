import { requiredWildcardSid } from "../../../infra/src/policy.ts"
import type { RecordedResource } from "./mocks.ts"

/** Narrowing helpers: the recorded inputs are untyped JSON, and a wrong shape should fail loudly. */
export function record(value: unknown, what = "value"): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${what} is not an object: ${JSON.stringify(value)}`)
  }
  return value as Record<string, unknown>
}

export function list(value: unknown, what = "value"): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list: ${JSON.stringify(value)}`)
  return value
}

export function text(value: unknown, what = "value"): string {
  if (typeof value !== "string") throw new Error(`${what} is not a string: ${JSON.stringify(value)}`)
  return value
}

export function strings(value: unknown): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).map((v) => text(v, "list item"))
}

export function json(value: unknown, what = "JSON input"): unknown {
  return JSON.parse(text(value, what))
}

export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type)
}

export function one(resources: RecordedResource[], type: string, name: string): RecordedResource {
  const found = resources.find((r) => r.type === type && r.name === name)
  if (!found) throw new Error(`no ${type} named ${name}`)
  return found
}

export interface Statement {
  readonly Sid?: string
  readonly Effect: string
  readonly Action: string[]
  readonly Resource: string[]
  readonly Principal: unknown
  readonly Condition: Record<string, unknown>
}

export function statements(policyJson: unknown): Statement[] {
  const document = record(json(policyJson, "policy"), "policy document")
  return list(document.Statement, "Statement").map((raw) => {
    const s = record(raw, "statement")
    return {
      Sid: s.Sid === undefined ? undefined : text(s.Sid, "Sid"),
      Effect: text(s.Effect, "Effect"),
      Action: strings(s.Action),
      Resource: strings(s.Resource),
      Principal: s.Principal,
      Condition: s.Condition === undefined ? {} : record(s.Condition, "Condition"),
    }
  })
}

/** Allow statements whose Action or Resource is a wildcard and that do not say why (Sid prefix). */
export function unmarkedWildcardGrants(all: Statement[]): Statement[] {
  return all.filter(
    (s) =>
      s.Effect === "Allow" &&
      (s.Action.some((a) => a.includes("*")) || s.Resource.includes("*")) &&
      !(s.Sid ?? "").startsWith(requiredWildcardSid),
  )
}

/** Every policy document a stack carries, wherever AWS accepts one. */
export function policyDocuments(resources: RecordedResource[]): { resource: string; policy: unknown }[] {
  const fields: Record<string, string> = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
  }
  return resources.flatMap((r) => {
    const field = fields[r.type]
    const policy = field ? r.inputs[field] : undefined
    return policy === undefined ? [] : [{ resource: `${r.type} ${r.name}`, policy }]
  })
}
