import * as aws from "@pulumi/aws"
import { childOptions, physicalName, type Scope } from "./scope.ts"

/** The app's roles; Cognito group names must match what the server maps to permissions. */
export const roleGroups = [
  { name: "admin", precedence: 1, description: "Manages users, factors and dead letters" },
  { name: "accountant", precedence: 2, description: "Uploads activity data and reviews matches" },
  { name: "viewer", precedence: 3, description: "Reads reports" },
] as const

export interface Identity {
  readonly userPool: aws.cognito.UserPool
  readonly client: aws.cognito.UserPoolClient
  readonly groups: aws.cognito.UserGroup[]
}

export function createIdentity(scope: Scope, deletionProtection: boolean): Identity {
  const opts = childOptions(scope)
  const userPool = new aws.cognito.UserPool(
    `${scope.name}-users`,
    {
      name: physicalName(scope, "users"),
      usernameAttributes: ["email"],
      autoVerifiedAttributes: ["email"],
      // Accounts are invited by an admin; an open sign-up would let anyone into a tenant.
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      passwordPolicy: {
        minimumLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: false,
        temporaryPasswordValidityDays: 7,
      },
      mfaConfiguration: "OPTIONAL",
      softwareTokenMfaConfiguration: { enabled: true },
      accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
      deletionProtection: deletionProtection ? "ACTIVE" : "INACTIVE",
      tags: scope.tags,
    },
    opts,
  )
  const groups = roleGroups.map(
    (group) =>
      new aws.cognito.UserGroup(
        `${scope.name}-group-${group.name}`,
        { userPoolId: userPool.id, name: group.name, precedence: group.precedence, description: group.description },
        opts,
      ),
  )
  const client = new aws.cognito.UserPoolClient(
    `${scope.name}-app-client`,
    {
      name: physicalName(scope, "app"),
      userPoolId: userPool.id,
      // The server calls InitiateAuth on behalf of the browser; a public client needs no secret to manage.
      generateSecret: false,
      explicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      preventUserExistenceErrors: "ENABLED",
      enableTokenRevocation: true,
      accessTokenValidity: 60,
      idTokenValidity: 60,
      refreshTokenValidity: 30,
      tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
    },
    opts,
  )
  return { userPool, client, groups }
}
