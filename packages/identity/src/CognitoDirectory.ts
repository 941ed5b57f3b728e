import { AwsConfig, awsClientOptions } from "@scopeline/settings/AwsConfig"
import { Data, Effect } from "effect"

/** Cognito refused or could not be reached; `name` is its exception type (e.g. `UsernameExistsException`). */
export class CognitoDirectoryError extends Data.TaggedError("CognitoDirectoryError")<{
  readonly name: string
  readonly message: string
}> {}

export interface CognitoDirectoryOptions {
  readonly userPoolId: string
  readonly region: string
  /** Cognito's endpoint: AWS's by default, an emulator's in tests. */
  readonly endpoint: string
}

export interface NewCognitoUser {
  readonly email: string
  readonly group: string
  readonly firstName: string | null
  readonly lastName: string | null
}

/**
 * The tenant's Cognito user pool as a directory of people: create a user (Cognito mails its own
 * invitation with a temporary password), move them between groups, disable, enable, delete. Signed
 * with the AWS settings' credentials (in AWS, the task role through the default chain). No business rules: which
 * group stands for which role is the caller's decision.
 */
export const makeCognitoDirectory = (options: CognitoDirectoryOptions) =>
  Effect.gen(function* () {
    // Loaded only in AWS mode: the embedded mode never pays for the SDK.
    const sdk = yield* Effect.promise(() => import("@aws-sdk/client-cognito-identity-provider"))
    // The shared AWS settings (static credentials in tests, the task role in AWS), in the pool's region.
    const aws = yield* AwsConfig
    const client = new sdk.CognitoIdentityProviderClient({ ...awsClientOptions(aws, 10_000), region: options.region, endpoint: options.endpoint })
    const UserPoolId = options.userPoolId

    const call = <A>(operation: string, send: () => Promise<A>) =>
      Effect.tryPromise({
        try: send,
        catch: (error) =>
          new CognitoDirectoryError({
            name: error instanceof Error ? error.name : "Unknown",
            message: `Cognito ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
          }),
      })

    const createUser = (user: NewCognitoUser) =>
      Effect.gen(function* () {
        const attributes = [
          { Name: "email", Value: user.email },
          { Name: "email_verified", Value: "true" },
          ...(user.firstName === null ? [] : [{ Name: "given_name", Value: user.firstName }]),
          ...(user.lastName === null ? [] : [{ Name: "family_name", Value: user.lastName }]),
        ]
        const created = yield* call("AdminCreateUser", () =>
          client.send(new sdk.AdminCreateUserCommand({ UserPoolId, Username: user.email, UserAttributes: attributes, DesiredDeliveryMediums: ["EMAIL"] })),
        )
        yield* call("AdminAddUserToGroup", () =>
          client.send(new sdk.AdminAddUserToGroupCommand({ UserPoolId, Username: user.email, GroupName: user.group })),
        )
        const sub = created.User?.Attributes?.find((attribute) => attribute.Name === "sub")?.Value
        return { sub: sub ?? null }
      })

    const moveToGroup = (username: string, from: string, to: string) =>
      Effect.gen(function* () {
        yield* call("AdminAddUserToGroup", () => client.send(new sdk.AdminAddUserToGroupCommand({ UserPoolId, Username: username, GroupName: to })))
        yield* call("AdminRemoveUserFromGroup", () =>
          client.send(new sdk.AdminRemoveUserFromGroupCommand({ UserPoolId, Username: username, GroupName: from })),
        )
      })

    const setEnabled = (username: string, enabled: boolean) =>
      enabled
        ? call("AdminEnableUser", () => client.send(new sdk.AdminEnableUserCommand({ UserPoolId, Username: username }))).pipe(Effect.asVoid)
        : call("AdminDisableUser", () => client.send(new sdk.AdminDisableUserCommand({ UserPoolId, Username: username }))).pipe(Effect.asVoid)

    const deleteUser = (username: string) =>
      call("AdminDeleteUser", () => client.send(new sdk.AdminDeleteUserCommand({ UserPoolId, Username: username }))).pipe(Effect.asVoid)

    return { createUser, moveToGroup, setEnabled, deleteUser }
  })

export type CognitoDirectory = Effect.Effect.Success<ReturnType<typeof makeCognitoDirectory>>
