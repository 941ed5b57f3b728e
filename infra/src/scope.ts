import * as pulumi from "@pulumi/pulumi"

/**
 * What every module needs to create a tenant's resources: the logical-name prefix, the parent component,
 * and where the stack runs. Passing it explicitly keeps the modules free of global config reads.
 */
export interface Scope {
  /** Logical-name prefix: the component's name; every child is `${name}-…`. */
  readonly name: string
  readonly tenant: string
  readonly parent: pulumi.Resource
  readonly accountId: pulumi.Output<string>
  readonly region: pulumi.Output<string>
  readonly partition: pulumi.Output<string>
  readonly tags: Record<string, string>
}

/**
 * The one way explicit physical names are made: prefixed with the product and tenant, so two tenants in the
 * same account (or a shared global namespace such as S3) can never collide.
 */
export function physicalName(scope: Pick<Scope, "tenant">, suffix: string): string {
  return `scopeline-${scope.tenant}-${suffix}`
}

export function childOptions(scope: Scope, extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
  return { ...extra, parent: scope.parent }
}
