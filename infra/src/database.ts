import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { childOptions, physicalName, type Scope } from "./scope.ts"

export const databaseName = "scopeline"
export const databasePort = 5432

export interface Database {
  readonly cluster: aws.rds.Cluster
  readonly instance: aws.rds.ClusterInstance
  /** Secrets Manager secret (JSON with `username` and `password`) that RDS creates and rotates. */
  readonly masterSecretArn: pulumi.Output<string>
}

export interface DatabaseArgs {
  readonly key: aws.kms.Key
  readonly subnets: aws.ec2.Subnet[]
  readonly securityGroup: aws.ec2.SecurityGroup
  readonly engineVersion: string
  readonly minCapacity: number
  readonly maxCapacity: number
  readonly backupRetentionDays: number
  readonly deletionProtection: boolean
}

export function createDatabase(scope: Scope, args: DatabaseArgs): Database {
  const opts = childOptions(scope)
  const identifier = physicalName(scope, "db")
  const subnetGroup = new aws.rds.SubnetGroup(
    `${scope.name}-db-subnets`,
    { name: identifier, subnetIds: args.subnets.map((s) => s.id), tags: scope.tags },
    opts,
  )
  const cluster = new aws.rds.Cluster(
    `${scope.name}-db`,
    {
      clusterIdentifier: identifier,
      engine: "aurora-postgresql",
      // Serverless v2 runs on the provisioned engine mode with db.serverless instances.
      engineMode: "provisioned",
      engineVersion: args.engineVersion,
      databaseName,
      masterUsername: "scopeline",
      // RDS generates the password and keeps it in Secrets Manager, so it never passes through Pulumi state.
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: args.key.arn,
      storageEncrypted: true,
      kmsKeyId: args.key.arn,
      port: databasePort,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [args.securityGroup.id],
      serverlessv2ScalingConfiguration: { minCapacity: args.minCapacity, maxCapacity: args.maxCapacity },
      backupRetentionPeriod: args.backupRetentionDays,
      preferredBackupWindow: "02:00-03:00",
      preferredMaintenanceWindow: "sun:03:30-sun:04:30",
      copyTagsToSnapshot: true,
      deletionProtection: args.deletionProtection,
      // A destroy always leaves a last snapshot behind; deleting it is a separate, deliberate act.
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${identifier}-final`,
      tags: scope.tags,
    },
    opts,
  )
  const instance = new aws.rds.ClusterInstance(
    `${scope.name}-db-1`,
    {
      identifier: `${identifier}-1`,
      clusterIdentifier: cluster.id,
      instanceClass: "db.serverless",
      engine: "aurora-postgresql",
      engineVersion: cluster.engineVersion,
      dbSubnetGroupName: subnetGroup.name,
      publiclyAccessible: false,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: args.key.arn,
      tags: scope.tags,
    },
    opts,
  )
  const masterSecretArn = cluster.masterUserSecrets.apply((secrets) => {
    const arn = secrets[0]?.secretArn
    if (!arn) throw new Error("the cluster has no master user secret; is manageMasterUserPassword on?")
    return arn
  })
  return { cluster, instance, masterSecretArn }
}
