import { AppConfig } from "@scopeline/settings/AppConfig"
import { httpError, Unauthorized } from "@scopeline/ui/ApiError"
import { Role } from "./Role.ts"
import { Principal, UserId } from "./User.ts"
import { Effect, Schema } from "effect"
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from "jose"
import { JwtSecret } from "@scopeline/identity/JwtSecret"

/** A token that is not a JWT at all (400): the session it came with cannot go on, so pages ask to sign in. */
export class TokenUnreadable extends httpError("TokenUnreadable", 400, "bad_request") {
  get endsSession(): boolean {
    return true
  }
}

const ISSUER = "scopeline"

/**
 * The claims we sign: `sub` and `uuid` both hold the user's id (the seed names it `uuid`); `jti` names
 * the session so signing out can revoke exactly it; `exp` and `iat` bound its life.
 */
const Claims = Schema.Struct({
  sub: UserId,
  uuid: UserId,
  role: Role,
  jti: Schema.String,
  exp: Schema.Number,
  iat: Schema.Number,
  // `iat` has whole seconds; this has the millisecond, so a sign-out-everywhere cut-off is exact.
  iat_ms: Schema.optional(Schema.Number),
})

/** A token whose signature, issuer and lifetime were checked: who it is for, and which session. */
export interface VerifiedToken {
  readonly principal: Principal
  readonly tokenId: string
  readonly expiresAt: Date
  readonly issuedAt: Date
  /** True when `issuedAt` has milliseconds (our tokens); false when only whole seconds (Cognito's). */
  readonly issuedAtExact: boolean
}

/**
 * Rejects what is not a JWT at all (400, as the seed's error table says) before verifying the
 * signature and expiry (401).
 */
export const assertParsable = (token: string) =>
  Effect.try({
    try: () => decodeProtectedHeader(token),
    catch: () => new TokenUnreadable({ message: "The token cannot be parsed." }),
  }).pipe(
    Effect.filterOrFail(
      () => token.split(".").length === 3,
      () => new TokenUnreadable({ message: "The token cannot be parsed." }),
    ),
  )

/** How many checked tokens a process remembers: a few for each person signed in at once. */
const CHECKED_TOKENS = 5_000

/**
 * Tokens whose signature and claims have been checked, by their exact text. Checking a signature costs
 * a WebCrypto call (handed to another thread and back) on every request; the text and the key decide it
 * alone, and the key does not change while the process runs, so it is checked once per token. Only the
 * expiry depends on the time, and it is checked on every use. Whether the session still stands (signed
 * out, deactivated, role changed) is not the token's to say: that is re-read from the account on every
 * request (Authentication.ts). Only tokens that passed enter, so a forged one can never fill it.
 */
export const checkedTokens = (capacity = CHECKED_TOKENS) => {
  const checked = new Map<string, VerifiedToken>()
  return {
    /** The token as checked before, unless it has expired since (jose's rule: `exp` must be later than this second). */
    get: (token: string, now: number): VerifiedToken | undefined => {
      const known = checked.get(token)
      if (known === undefined) return undefined
      if (known.expiresAt.getTime() > now) return known
      checked.delete(token)
      return undefined
    },
    set: (token: string, verified: VerifiedToken): void => {
      // The oldest entry goes first: a Map keeps its keys in insertion order.
      if (checked.size >= capacity) checked.delete(checked.keys().next().value!)
      checked.set(token, verified)
    },
    get size() {
      return checked.size
    },
  }
}

export class Tokens extends Effect.Service<Tokens>()("scopeline/Tokens", {
  effect: Effect.gen(function* () {
    const secret = yield* JwtSecret
    const { jwtTtlSeconds } = yield* AppConfig
    const checked = checkedTokens()

    const issue = Effect.fn("Tokens.issue")(function* (principal: Principal) {
      const key = yield* secret.key
      return yield* Effect.promise(() =>
        new SignJWT({ uuid: principal.userId, role: principal.role, iat_ms: Date.now() })
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setSubject(principal.userId)
          .setIssuer(ISSUER)
          .setIssuedAt()
          .setJti(crypto.randomUUID())
          .setExpirationTime(`${jwtTtlSeconds}s`)
          .sign(key),
      )
    })

    const verify = Effect.fn("Tokens.verify")(function* (token: string): Effect.fn.Return<VerifiedToken, TokenUnreadable | Unauthorized> {
      const known = checked.get(token, Date.now())
      if (known !== undefined) return known
      yield* assertParsable(token)
      const key = yield* secret.key
      const { payload } = yield* Effect.tryPromise({
        // A token without `exp` would never expire, so even a correctly signed one is refused. (One
        // without `jti`, which could never be revoked, is refused by the Claims schema below, after
        // jose has said whether it expired: that message is the more useful one.)
        try: () => jwtVerify(token, key, { issuer: ISSUER, algorithms: ["HS256"], requiredClaims: ["exp", "iat"] }),
        catch: (error) =>
          error instanceof errors.JWTExpired
            ? new Unauthorized({ message: "The token has expired. Sign in again." })
            : error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid
              ? new TokenUnreadable({ message: "The token cannot be parsed." })
              : new Unauthorized({ message: "The token is not valid." }),
      })
      const claims = yield* Schema.decodeUnknown(Claims)(payload).pipe(
        Effect.mapError(() => new Unauthorized({ message: "The token is not valid." })),
      )
      const verified: VerifiedToken = {
        principal: new Principal({ userId: claims.sub, role: claims.role }),
        tokenId: claims.jti,
        expiresAt: new Date(claims.exp * 1000),
        issuedAt: new Date(claims.iat_ms ?? claims.iat * 1000),
        issuedAtExact: claims.iat_ms !== undefined,
      }
      checked.set(token, verified)
      return verified
    })

    return { issue, verify, ttlSeconds: jwtTtlSeconds }
  }),
  dependencies: [JwtSecret.Default, AppConfig.Default],
}) {}
