import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { appPort } from "./config.ts"
import { childOptions, physicalName, type Scope } from "./scope.ts"

export interface Network {
  readonly vpc: aws.ec2.Vpc
  /** Two AZs; the database and the Fargate tasks both live here, kept apart by security groups. */
  readonly privateSubnets: aws.ec2.Subnet[]
  /** Two AZs, because an application load balancer needs subnets in at least two zones. */
  readonly publicSubnets: aws.ec2.Subnet[]
  readonly albSecurityGroup: aws.ec2.SecurityGroup
  readonly serverSecurityGroup: aws.ec2.SecurityGroup
  readonly workerSecurityGroup: aws.ec2.SecurityGroup
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup
}

export interface NetworkArgs {
  readonly cidr: string
  /** Ports the tasks may open outbound to the internet: HTTPS for AWS APIs, plus the matcher's port. */
  readonly egressPorts: number[]
  /** Whether the load balancer listens on 443 (a certificate is configured). */
  readonly https: boolean
}

/** Splits a /16 into /20s: index 0-1 public, 2-3 private; room is left for more zones later. */
function subnetCidr(vpcCidr: string, index: number): string {
  const [base, prefix] = vpcCidr.split("/")
  const octets = (base ?? "").split(".").map(Number)
  if (prefix !== "16" || octets.length !== 4 || octets.some((o) => Number.isNaN(o))) {
    throw new Error(`vpcCidr must be a /16 such as 10.40.0.0/16, got "${vpcCidr}"`)
  }
  return `${octets[0]}.${octets[1]}.${index * 16}.0/20`
}

export function createNetwork(scope: Scope, args: NetworkArgs): Network {
  const opts = childOptions(scope)
  const zones = aws.getAvailabilityZonesOutput(
    // Local and Wavelength zones lack the services used here; only the region's regular zones qualify.
    { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
    { parent: scope.parent },
  ).names
  const zone = (index: number) => zones.apply((names) => {
    const name = names[index]
    if (!name) throw new Error(`the region needs at least ${index + 1} availability zones`)
    return name
  })
  const tag = (suffix: string) => ({ ...scope.tags, Name: physicalName(scope, suffix) })

  const vpc = new aws.ec2.Vpc(
    `${scope.name}-vpc`,
    { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tag("vpc") },
    opts,
  )
  const publicSubnets = [0, 1].map(
    (i) =>
      new aws.ec2.Subnet(
        `${scope.name}-public-${i}`,
        { vpcId: vpc.id, cidrBlock: subnetCidr(args.cidr, i), availabilityZone: zone(i), tags: tag(`public-${i}`) },
        opts,
      ),
  )
  const privateSubnets = [0, 1].map(
    (i) =>
      new aws.ec2.Subnet(
        `${scope.name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(args.cidr, i + 2),
          availabilityZone: zone(i),
          mapPublicIpOnLaunch: false,
          tags: tag(`private-${i}`),
        },
        opts,
      ),
  )

  const internetGateway = new aws.ec2.InternetGateway(`${scope.name}-igw`, { vpcId: vpc.id, tags: tag("igw") }, opts)
  const publicRoutes = new aws.ec2.RouteTable(
    `${scope.name}-public-routes`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }], tags: tag("public") },
    opts,
  )
  publicSubnets.forEach(
    (subnet, i) =>
      new aws.ec2.RouteTableAssociation(
        `${scope.name}-public-${i}-routes`,
        { subnetId: subnet.id, routeTableId: publicRoutes.id },
        opts,
      ),
  )

  // Cost trade-off: ONE NAT gateway (about $35/month plus traffic) instead of one per zone. If its zone
  // fails, tasks in the other zone lose outbound internet (matcher, ECR pulls) until it recovers; S3 traffic
  // keeps flowing through the gateway endpoint below. Add a second NAT here if a tenant needs that SLA.
  const natAddress = new aws.ec2.Eip(`${scope.name}-nat-ip`, { domain: "vpc", tags: tag("nat") }, opts)
  const firstPublicSubnet = publicSubnets[0]
  if (!firstPublicSubnet) throw new Error("no public subnet")
  const nat = new aws.ec2.NatGateway(
    `${scope.name}-nat`,
    { allocationId: natAddress.id, subnetId: firstPublicSubnet.id, tags: tag("nat") },
    { ...opts, dependsOn: [internetGateway] },
  )
  const privateRoutes = new aws.ec2.RouteTable(
    `${scope.name}-private-routes`,
    { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: tag("private") },
    opts,
  )
  privateSubnets.forEach(
    (subnet, i) =>
      new aws.ec2.RouteTableAssociation(
        `${scope.name}-private-${i}-routes`,
        { subnetId: subnet.id, routeTableId: privateRoutes.id },
        opts,
      ),
  )
  // Free, and keeps upload/parse traffic off the metered NAT gateway.
  new aws.ec2.VpcEndpoint(
    `${scope.name}-s3-endpoint`,
    {
      vpcId: vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${scope.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [privateRoutes.id],
      tags: tag("s3"),
    },
    opts,
  )

  const securityGroup = (suffix: string, description: string) =>
    new aws.ec2.SecurityGroup(
      `${scope.name}-${suffix}-sg`,
      { name: physicalName(scope, suffix), description, vpcId: vpc.id, tags: tag(suffix) },
      opts,
    )
  const albSecurityGroup = securityGroup("alb", "Scopeline load balancer: HTTP(S) from the internet")
  const serverSecurityGroup = securityGroup("server", "Scopeline server tasks: app port from the load balancer")
  const workerSecurityGroup = securityGroup("worker", "Scopeline worker tasks: no inbound traffic")
  const databaseSecurityGroup = securityGroup("db", "Scopeline database: PostgreSQL from the tasks only")

  // Rules are separate resources so groups can reference each other without a dependency cycle.
  const ingress = (suffix: string, rule: aws.vpc.SecurityGroupIngressRuleArgs) =>
    new aws.vpc.SecurityGroupIngressRule(`${scope.name}-${suffix}`, rule, opts)
  const egress = (suffix: string, rule: aws.vpc.SecurityGroupEgressRuleArgs) =>
    new aws.vpc.SecurityGroupEgressRule(`${scope.name}-${suffix}`, rule, opts)

  const listenerPorts = args.https ? [80, 443] : [80]
  for (const port of listenerPorts) {
    ingress(`alb-in-${port}`, {
      securityGroupId: albSecurityGroup.id,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrIpv4: "0.0.0.0/0",
      description: `HTTP${port === 443 ? "S" : ""} from browsers`,
    })
  }
  egress("alb-out-server", {
    securityGroupId: albSecurityGroup.id,
    ipProtocol: "tcp",
    fromPort: appPort,
    toPort: appPort,
    referencedSecurityGroupId: serverSecurityGroup.id,
    description: "to the server tasks",
  })
  ingress("server-in-alb", {
    securityGroupId: serverSecurityGroup.id,
    ipProtocol: "tcp",
    fromPort: appPort,
    toPort: appPort,
    referencedSecurityGroupId: albSecurityGroup.id,
    description: "from the load balancer",
  })
  for (const [role, group] of [
    ["server", serverSecurityGroup],
    ["worker", workerSecurityGroup],
  ] as const) {
    ingress(`db-in-${role}`, {
      securityGroupId: databaseSecurityGroup.id,
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      referencedSecurityGroupId: group.id,
      description: `PostgreSQL from the ${role} tasks`,
    })
    egress(`${role}-out-db`, {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      referencedSecurityGroupId: databaseSecurityGroup.id,
      description: "to the database",
    })
    for (const port of args.egressPorts) {
      egress(`${role}-out-${port}`, {
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: "AWS APIs, ECR and the matcher",
      })
    }
  }

  return {
    vpc,
    privateSubnets,
    publicSubnets,
    albSecurityGroup,
    serverSecurityGroup,
    workerSecurityGroup,
    databaseSecurityGroup,
  }
}
