import { AppConfig } from "@scopeline/settings/AppConfig"
import { BadRequest, Unauthorized } from "@scopeline/ui/ApiError"
import { Role } from "./Role.ts"
import { Principal, UserId } from "./User.ts"
import { Effect, Schema } from "effect"
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose"
import { JwtSecret } from "@scopeline/identity/JwtSecret"

const ISSUER = "scopeline"

/** The claims we sign: `sub` and `uuid` both hold the user's id (the seed names it `uuid`). */
const Claims = Schema.Struct({ sub: UserId, uuid: UserId, role: Role })

/**
 * Rejects what is not a JWT at all (400, as the seed's error table says) before verifying the
 * signature and expiry (401).
 */
export const assertParsable = (token: string) =>
  Effect.try({
    try: () => decodeProtectedHeader(token),
    catch: () => new BadRequest({ message: "The token cannot be parsed." }),
  }).pipe(
    Effect.filterOrFail(
      () => token.split(".").length === 3,
      () => new BadRequest({ message: "The token cannot be parsed." }),
    ),
  )

export class Tokens extends Effect.Service<Tokens>()("scopeline/Tokens", {
  effect: Effect.gen(function* () {
    const { key } = yield* JwtSecret
    const { jwtTtlSeconds } = yield* AppConfig

    const issue = Effect.fn("Tokens.issue")(function* (principal: Principal) {
      return yield* Effect.promise(() =>
        new SignJWT({ uuid: principal.userId, role: principal.role })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(principal.userId)
          .setIssuer(ISSUER)
          .setIssuedAt()
          .setExpirationTime(`${jwtTtlSeconds}s`)
          .sign(key),
      )
    })

    const verify = Effect.fn("Tokens.verify")(function* (token: string) {
      yield* assertParsable(token)
      const { payload } = yield* Effect.tryPromise({
        try: () => jwtVerify(token, key, { issuer: ISSUER, algorithms: ["HS256"] }),
        catch: (error) =>
          error instanceof errors.JWTExpired
            ? new Unauthorized({ message: "The token has expired. Sign in again." })
            : error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid
              ? new BadRequest({ message: "The token cannot be parsed." })
              : new Unauthorized({ message: "The token is not valid." }),
      })
      const claims = yield* Schema.decodeUnknown(Claims)(payload).pipe(
        Effect.mapError(() => new Unauthorized({ message: "The token is not valid." })),
      )
      return new Principal({ userId: claims.sub, role: claims.role })
    })

    return { issue, verify, ttlSeconds: jwtTtlSeconds }
  }),
  dependencies: [JwtSecret.Default, AppConfig.Default],
}) {}
