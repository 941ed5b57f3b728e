import * as aws from "@pulumi/aws"
import * as pulumi from "@pulumi/pulumi"
import { appPort } from "./config.ts"
import { childOptions, type Scope } from "./scope.ts"

export interface LoadBalancer {
  readonly alb: aws.lb.LoadBalancer
  readonly targetGroup: aws.lb.TargetGroup
  readonly listeners: aws.lb.Listener[]
  /** Origin browsers use: the configured one, or the load balancer's own DNS name. */
  readonly appUrl: pulumi.Output<string>
}

export interface LoadBalancerArgs {
  readonly vpc: aws.ec2.Vpc
  readonly subnets: aws.ec2.Subnet[]
  readonly securityGroup: aws.ec2.SecurityGroup
  readonly certificateArn?: string
  readonly appOrigin?: string
}

export function createLoadBalancer(scope: Scope, args: LoadBalancerArgs): LoadBalancer {
  const opts = childOptions(scope)
  // ALB and target-group names are capped at 32 characters, so these two keep Pulumi's auto-names
  // (derived from the tenant-prefixed logical name plus a random suffix).
  const alb = new aws.lb.LoadBalancer(
    `${scope.name}-alb`,
    {
      loadBalancerType: "application",
      internal: false,
      subnets: args.subnets.map((s) => s.id),
      securityGroups: [args.securityGroup.id],
      dropInvalidHeaderFields: true,
      // Uploads go straight to S3; requests through the ALB are small, so the default timeout is enough.
      idleTimeout: 60,
      tags: scope.tags,
    },
    opts,
  )
  const targetGroup = new aws.lb.TargetGroup(
    `${scope.name}-server-tg`,
    {
      port: appPort,
      protocol: "HTTP",
      targetType: "ip",
      vpcId: args.vpc.id,
      // Lets a deploy finish quickly; in-flight requests are short.
      deregistrationDelay: 30,
      healthCheck: {
        path: "/healthz",
        matcher: "200",
        interval: 15,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      tags: scope.tags,
    },
    opts,
  )

  const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }]
  const listeners: aws.lb.Listener[] = []
  if (args.certificateArn) {
    listeners.push(
      new aws.lb.Listener(
        `${scope.name}-https`,
        {
          loadBalancerArn: alb.arn,
          port: 443,
          protocol: "HTTPS",
          certificateArn: args.certificateArn,
          sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
          defaultActions: forward,
        },
        opts,
      ),
      new aws.lb.Listener(
        `${scope.name}-http`,
        {
          loadBalancerArn: alb.arn,
          port: 80,
          protocol: "HTTP",
          defaultActions: [
            { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
          ],
        },
        opts,
      ),
    )
  } else {
    // Without a certificate the app is only fit for trials: logins cross the internet unencrypted.
    listeners.push(
      new aws.lb.Listener(
        `${scope.name}-http`,
        { loadBalancerArn: alb.arn, port: 80, protocol: "HTTP", defaultActions: forward },
        opts,
      ),
    )
  }

  const scheme = args.certificateArn ? "https" : "http"
  const appUrl = args.appOrigin
    ? pulumi.output(args.appOrigin.replace(/\/$/, ""))
    : pulumi.interpolate`${scheme}://${alb.dnsName}`
  return { alb, targetGroup, listeners, appUrl }
}
