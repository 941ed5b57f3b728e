import { CognitoIdentity, CognitoUsersRepo } from "./CognitoUsersRepo.ts"
import { BadRequest, TooManyRequests, Unauthorized } from "@scopeline/ui/ApiError"
import type { Role } from "./Role.ts"
import { Email, Principal } from "./User.ts"
import { Config, ConfigError, Data, Effect, Either, Layer, Option, Redacted, Schedule, Schema } from "effect"
import { createRemoteJWKSet, errors, jwtVerify } from "jose"
import { createHmac } from "node:crypto"
import { Authentication, type Credentials, principalOf } from "./Authentication.ts"
import { UsersRepo } from "./UsersRepo.ts"
import type { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { AuditLog } from "@scopeline/events"
import { assertParsable, TokenUnreadable } from "./Tokens.ts"
import { NewPasswordRequired, WeakPassword } from "./errors.ts"
import { checkPassword } from "./PasswordRules.ts"
import { SessionRevocations } from "./SessionRevocations.ts"

/**
 * Settings of AUTH=cognito (env vars of the same name):
 * - `COGNITO_USER_POOL_ID`, `COGNITO_CLIENT_ID` (required); `COGNITO_CLIENT_SECRET` only when the app
 *   client has a secret (InitiateAuth then needs a SECRET_HASH)
 * - `COGNITO_REGION` (default: the pool id's prefix, `eu-west-1_AbC…` → eu-west-1)
 * - `COGNITO_ENDPOINT`, `COGNITO_JWKS_URL`, `COGNITO_ISSUER`: overrides for tests and emulators; by
 *   default all three derive from the region and the pool id.
 */
export const CognitoConfig = Config.all({
  userPoolId: Config.nonEmptyString("COGNITO_USER_POOL_ID"),
  clientId: Config.nonEmptyString("COGNITO_CLIENT_ID"),
  clientSecret: Config.option(Config.redacted("COGNITO_CLIENT_SECRET")),
  region: Config.option(Config.nonEmptyString("COGNITO_REGION")),
  endpoint: Config.option(Config.url("COGNITO_ENDPOINT")),
  jwksUrl: Config.option(Config.url("COGNITO_JWKS_URL")),
  issuer: Config.option(Config.nonEmptyString("COGNITO_ISSUER")),
}).pipe(
  Config.mapOrFail((raw) => {
    const region = Option.orElse(raw.region, () => Option.fromNullable(/^([a-z0-9-]+)_/.exec(raw.userPoolId)?.[1]))
    if (Option.isNone(region)) {
      return Either.left(
        ConfigError.InvalidData(["COGNITO_REGION"], "is not set and cannot be read from COGNITO_USER_POOL_ID"),
      )
    }
    const issuer = Option.getOrElse(raw.issuer, () => `https://cognito-idp.${region.value}.amazonaws.com/${raw.userPoolId}`)
    return Either.right({
      userPoolId: raw.userPoolId,
      region: region.value,
      clientId: raw.clientId,
      clientSecret: raw.clientSecret,
      issuer,
      jwksUrl: Option.getOrElse(raw.jwksUrl, () => new URL(`${issuer}/.well-known/jwks.json`)),
      endpoint: Option.getOrElse(raw.endpoint, () => new URL(`https://cognito-idp.${region.value}.amazonaws.com/`)),
    })
  }),
)

/**
 * Cognito or its key set cannot be reached or answered nonsense. Not the caller's fault, and the
 * Authentication contract has no error for it, so it is a defect (500) with this as its cause.
 */
export class CognitoUnavailable extends Data.TaggedError("CognitoUnavailable")<{
  readonly operation: string
  readonly cause: unknown
}> {}

const Groups = Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
const NormalisedEmail = Schema.Trim.pipe(Schema.compose(Schema.Lowercase), Schema.compose(Email))

/** Cognito ID token claims we use (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html). */
const IdTokenClaims = Schema.Struct({
  token_use: Schema.Literal("id"),
  sub: Schema.UUID,
  aud: Schema.String,
  "cognito:groups": Groups,
  email: Schema.optional(NormalisedEmail),
  given_name: Schema.optional(Schema.String),
  family_name: Schema.optional(Schema.String),
})
/** Access tokens carry the app client as `client_id` (no `aud`) and no profile claims. */
const AccessTokenClaims = Schema.Struct({
  token_use: Schema.Literal("access"),
  sub: Schema.UUID,
  client_id: Schema.String,
  "cognito:groups": Groups,
})
const CognitoClaims = Schema.Union(IdTokenClaims, AccessTokenClaims)

/** Our roles by precedence: a user in several groups gets the strongest. Other groups are ignored. */
const ROLE_PRECEDENCE: ReadonlyArray<Role> = ["admin", "accountant", "viewer"]
export const roleOfGroups = (groups: ReadonlyArray<string>): Option.Option<Role> =>
  Option.fromNullable(ROLE_PRECEDENCE.find((role) => groups.includes(role)))

const InitiateAuthResponse = Schema.Struct({
  AuthenticationResult: Schema.optional(Schema.Struct({ IdToken: Schema.String })),
  ChallengeName: Schema.optional(Schema.String),
  Session: Schema.optional(Schema.String),
})
const CognitoErrorBody = Schema.Struct({
  __type: Schema.String,
  message: Schema.optional(Schema.String),
  Message: Schema.optional(Schema.String),
})

const invalidToken = new Unauthorized({ message: "The token is not valid." })
const invalidCredentials = new Unauthorized({ message: "The login or password is incorrect." })

/** jose's verdict as our errors: structurally broken is 400, well-formed but unacceptable is 401 (as Tokens.verify). */
const verificationFailure = (error: unknown): Effect.Effect<never, TokenUnreadable | Unauthorized> => {
  if (error instanceof errors.JWTExpired) {
    return Effect.fail(new Unauthorized({ message: "The token has expired. Sign in again." }))
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return Effect.fail(new TokenUnreadable({ message: "The token cannot be parsed." }))
  }
  // Bad signature, unknown key, wrong issuer, missing claims: not a token we accept.
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JWTClaimValidationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported
  ) {
    return Effect.fail(invalidToken)
  }
  // The key set could not be fetched or read: our outage, not the caller's bad token.
  return Effect.die(new CognitoUnavailable({ operation: "jwks", cause: error }))
}

class RetryableIdpFailure extends Data.TaggedError("RetryableIdpFailure")<{ readonly cause: unknown }> {}

/** Cognito's 5xx and network failures: a few quick, jittered retries before giving up on the login. */
const InitiateAuthRetry = Schedule.exponential("100 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(2)),
  Schedule.whileInput((error: unknown) => error instanceof RetryableIdpFailure),
)

const makeCognitoAuthentication = Effect.gen(function* () {
  const config = yield* CognitoConfig
  const users = yield* CognitoUsersRepo
  const accounts = yield* UsersRepo
  const revocations = yield* SessionRevocations
  // Fetched on first use, cached, and refetched when a token names an unknown `kid` (key rotation).
  const jwks = createRemoteJWKSet(config.jwksUrl)

  const verify = Effect.fn("CognitoAuth.verify")(function* (token: string) {
    yield* assertParsable(token)
    const { payload } = yield* Effect.tryPromise({
      try: () => jwtVerify(token, jwks, { issuer: config.issuer, algorithms: ["RS256"], requiredClaims: ["exp"] }),
      catch: (error) => error,
    }).pipe(Effect.catchAll(verificationFailure))
    const claims = yield* Schema.decodeUnknown(CognitoClaims)(payload).pipe(Effect.mapError(() => invalidToken))
    const audience = claims.token_use === "id" ? claims.aud : claims.client_id
    if (audience !== config.clientId) {
      return yield* new Unauthorized({ message: "The token was issued for another application." })
    }
    const role = roleOfGroups(claims["cognito:groups"])
    if (Option.isNone(role)) {
      // Authenticated but not allowed in; Authentication.verify's contract has no Forbidden, so this
      // is a 401 whose message says what to do.
      return yield* new Unauthorized({
        message: "Your account is not in any Scopeline group (admin, accountant or viewer). Ask an administrator to add you.",
      })
    }
    const user = yield* users.upsert(
      new CognitoIdentity({
        cognitoSub: claims.sub,
        email: claims.token_use === "id" ? (claims.email ?? null) : null,
        firstName: claims.token_use === "id" ? (claims.given_name ?? null) : null,
        lastName: claims.token_use === "id" ? (claims.family_name ?? null) : null,
        role: role.value,
      }),
    )
    if (Option.isNone(user)) {
      return yield* new Unauthorized({
        message:
          "Your account could not be set up: sign in with your email first, or ask an administrator if this email is already registered.",
      })
    }
    // The account as it is now: deactivated, deleted or signed out everywhere is refused here too,
    // and so is a token signed out here (Cognito's tokens carry a `jti`; it stays refused until it expires).
    return yield* principalOf(accounts, {
      principal: new Principal({ userId: user.value.id, role: user.value.role }),
      tokenId: typeof payload.jti === "string" ? payload.jti : "",
      expiresAt: new Date((payload.exp ?? 0) * 1000),
      issuedAt: new Date((payload.iat ?? payload.exp ?? 0) * 1000),
      issuedAtExact: false,
    })
  })

  const secretHash = (username: string) =>
    Option.map(config.clientSecret, (secret) =>
      createHmac("sha256", Redacted.value(secret)).update(username + config.clientId).digest("base64"),
    )

  /**
   * Cognito's sign-in API (InitiateAuth, RespondToAuthChallenge) needs no AWS signature: the app client
   * id is the only credential it takes.
   */
  const idpCall = (operation: "InitiateAuth" | "RespondToAuthChallenge", body: unknown) =>
    Effect.tryPromise({
      try: (signal) =>
        fetch(config.endpoint, {
          method: "POST",
          signal,
          headers: {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": `AWSCognitoIdentityProviderService.${operation}`,
          },
          body: JSON.stringify(body),
        }).then(async (response) => ({ response, body: await response.json().catch(() => null) })),
      catch: (cause) => new RetryableIdpFailure({ cause }),
    }).pipe(
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new RetryableIdpFailure({ cause: "timeout" }) }),
      Effect.filterOrFail(
        ({ response }) => response.status < 500,
        ({ response }) => new RetryableIdpFailure({ cause: `HTTP ${response.status}` }),
      ),
      Effect.retry(InitiateAuthRetry),
      Effect.catchTag("RetryableIdpFailure", (error) => Effect.die(new CognitoUnavailable({ operation, cause: error.cause }))),
    )

  const withSecretHash = (login: string, parameters: Record<string, string>) => ({
    ...parameters,
    ...Option.match(secretHash(login), { onNone: () => ({}), onSome: (hash) => ({ SECRET_HASH: hash }) }),
  })

  const initiateAuth = (credentials: Credentials) =>
    idpCall("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: config.clientId,
      AuthParameters: withSecretHash(credentials.login, { USERNAME: credentials.login, PASSWORD: credentials.password }),
    })

  /** A user Cognito created with a temporary password (an invitation) chooses their own on first sign-in. */
  const chooseNewPassword = (login: string, session: string, newPassword: string) =>
    idpCall("RespondToAuthChallenge", {
      ChallengeName: "NEW_PASSWORD_REQUIRED",
      ClientId: config.clientId,
      Session: session,
      ChallengeResponses: withSecretHash(login, { USERNAME: login, NEW_PASSWORD: newPassword }),
    })

  /** Cognito's refusal as our error: one answer for unknown and wrong logins, so none is revealed. */
  const refusal = (response: Response, body: unknown) =>
    Effect.gen(function* () {
      const error = yield* Schema.decodeUnknown(CognitoErrorBody)(body).pipe(
        Effect.orElseSucceed(() => ({ __type: response.headers.get("x-amzn-errortype") ?? "", message: undefined, Message: undefined })),
      )
      // `__type` may carry a namespace (`…#NotAuthorizedException`) or, in the header, a suffix (`…:http://…`).
      const type = error.__type.split("#").pop()!.split(":")[0]
      const message = error.message ?? error.Message ?? ""
      switch (type) {
        case "NotAuthorizedException":
          // Cognito's own lockout answers NotAuthorized too, with this message.
          if (/attempts exceeded/i.test(message)) {
            return yield* new TooManyRequests({
              message: "Too many failed sign-in attempts. Try again later.",
              retryAfterSeconds: 60,
            })
          }
          return yield* invalidCredentials
        // One answer for all of these, so the response does not reveal which logins exist.
        case "UserNotFoundException":
        case "UserNotConfirmedException":
        case "PasswordResetRequiredException":
          return yield* invalidCredentials
        // The pool's own password policy, stricter than ours in some way.
        case "InvalidPasswordException":
          return yield* new WeakPassword({ message: `The new password is refused: ${message}`, details: { field: "new_password", rule: "identity_provider" } })
        case "TooManyRequestsException":
        case "LimitExceededException":
          return yield* new TooManyRequests({
            message: "Too many sign-in requests. Try again in a moment.",
            retryAfterSeconds: Math.max(1, Number.parseInt(response.headers.get("retry-after") ?? "", 10) || 5),
          })
        default:
          // InvalidParameter (USER_PASSWORD_AUTH not enabled), ResourceNotFound (wrong client id), …:
          // a deployment mistake, not the user's.
          return yield* Effect.die(new CognitoUnavailable({ operation: "InitiateAuth", cause: { type, message } }))
      }
    })

  const decodeAuth = (body: unknown) =>
    Schema.decodeUnknown(InitiateAuthResponse)(body).pipe(Effect.orDieWith((cause) => new CognitoUnavailable({ operation: "InitiateAuth", cause })))

  const login = Effect.fn("CognitoAuth.login")(function* (credentials: Credentials) {
    const first = yield* initiateAuth(credentials)
    if (!first.response.ok) return yield* refusal(first.response, first.body)
    let result = yield* decodeAuth(first.body)
    if (result.AuthenticationResult === undefined && result.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      // The temporary password of Cognito's invitation was right; now the person chooses their own.
      if (credentials.new_password === undefined) {
        return yield* new NewPasswordRequired({
          message: "Welcome! Your temporary password is right. Choose your own password to finish signing in.",
          details: { challenge: "NEW_PASSWORD_REQUIRED", field: "new_password" },
        })
      }
      yield* checkPassword(credentials.new_password, credentials.login, "new_password")
      const answered = yield* chooseNewPassword(credentials.login, result.Session ?? "", credentials.new_password)
      if (!answered.response.ok) return yield* refusal(answered.response, answered.body)
      result = yield* decodeAuth(answered.body)
    }
    if (result.AuthenticationResult === undefined) {
      // Another challenge (MFA, …) must be completed in Cognito's own UI first.
      return yield* new Unauthorized({
        message: `Your account needs an extra sign-in step (${result.ChallengeName ?? "challenge"}) that this form does not support. Complete it in the identity provider first.`,
      })
    }
    const jwt = result.AuthenticationResult.IdToken
    // Verifying our own fresh token provisions the user and yields the principal; a token Cognito just
    // issued that we cannot parse is Cognito's fault, not the user's.
    const principal = yield* verify(jwt).pipe(
      Effect.catchTag("TokenUnreadable", (cause) => Effect.die(new CognitoUnavailable({ operation: "InitiateAuth", cause }))),
    )
    return { jwt, principal }
  })

  /** Our own deny-list, as in local mode: the token stays valid at Cognito but not here. */
  const signOut = Effect.fn("CognitoAuth.signOut")(function* (token: string) {
    const verified = yield* Effect.tryPromise(() =>
      jwtVerify(token, jwks, { issuer: config.issuer, algorithms: ["RS256"], requiredClaims: ["exp"] }),
    ).pipe(Effect.option)
    if (Option.isNone(verified)) return
    const { jti, exp } = verified.value.payload
    if (typeof jti === "string" && typeof exp === "number") yield* revocations.revoke(jti, new Date(exp * 1000))
  })

  /** The person behind a genuine Cognito token, if already known here (the audit log's name for a refused session). */
  const subjectOf = (token: string) =>
    Effect.tryPromise(() => jwtVerify(token, jwks, { issuer: config.issuer, algorithms: ["RS256"], requiredClaims: ["exp"] })).pipe(
      Effect.flatMap(({ payload }) => Schema.decodeUnknown(CognitoClaims)(payload)),
      Effect.flatMap((claims) => users.findBySub(claims.sub)),
      Effect.map(Option.map((userId) => ({ userId }))),
      Effect.orElseSucceed(() => Option.none<{ readonly userId: string }>()),
    )

  return Authentication.make({ login, verify, subjectOf, signOut })
})

/** The Authentication service of AWS mode (AUTH=cognito): Cognito signs users in and issues the tokens. */
export const CognitoAuthenticationLive = Layer.effect(Authentication, makeCognitoAuthentication).pipe(
  Layer.provide(Layer.mergeAll(CognitoUsersRepo.Default, SessionRevocations.Default, UsersRepo.Default)),
)

/** AUTH=local (default; local users, argon2id, HS256) or AUTH=cognito. */
export const AuthenticationLive = Layer.unwrapEffect(
  Config.literal("local", "cognito")("AUTH").pipe(
    Config.withDefault("local" as const),
    Effect.map((mode): Layer.Layer<Authentication, ConfigError.ConfigError | SqlError, SqlClient.SqlClient | AuditLog> =>
      mode === "cognito" ? CognitoAuthenticationLive : Authentication.Default,
    ),
  ),
)
