import { type CognitoDirectory, makeCognitoDirectory } from "@scopeline/identity/CognitoDirectory"
import { Config, Effect } from "effect"
import { CognitoConfig } from "./CognitoAuth.ts"
import { EmailAlreadyInvited, IdentityProviderUnavailable } from "./errors.ts"

/**
 * Where accounts live besides our own table. Embedded mode (AUTH=local): nowhere else; an invitation
 * is a link we issue. AWS mode (AUTH=cognito): the tenant's Cognito pool, which signs people in and
 * whose group is their role, so inviting, changing a role, deactivating and deleting go there too.
 */
export class Directory extends Effect.Service<Directory>()("scopeline/Directory", {
  effect: Effect.gen(function* () {
    const mode = yield* Config.literal("local", "cognito")("AUTH").pipe(Config.withDefault("local" as const))
    if (mode === "local") return { cognito: null as CognitoDirectory | null }
    const config = yield* CognitoConfig
    const cognito: CognitoDirectory = yield* makeCognitoDirectory({
      userPoolId: config.userPoolId,
      region: config.region,
      endpoint: config.endpoint.toString(),
    })
    return { cognito: cognito as CognitoDirectory | null }
  }),
}) {}

/** Cognito's refusals as our errors: an existing user is the 409 an invitation gets anyway; the rest are outages. */
export const fromCognito = <A, R>(effect: Effect.Effect<A, { readonly name: string; readonly message: string }, R>) =>
  effect.pipe(
    Effect.mapError((error) =>
      error.name === "UsernameExistsException"
        ? new EmailAlreadyInvited({ message: "This email already has an account in the organisation's user pool." })
        : new IdentityProviderUnavailable({ message: "The identity provider (Cognito) did not accept the change. Nothing was changed; try again.", details: { reason: error.name } }),
    ),
  )
