import { AuditLog } from "@scopeline/events"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Authentication } from "@scopeline/accounts/Authentication"
import { AuthenticationLive, CognitoAuthenticationLive } from "@scopeline/accounts/CognitoAuth"
import { migrate } from "@scopeline/sql/Migrator"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Server } from "bun"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option, Redacted, String } from "effect"
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose"
import { configLayer } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"

// Cognito is a boundary we do not own: a real HTTP JWKS endpoint and a real HTTP InitiateAuth
// endpoint stand in for it. Everything on our side (jose verification, Schema decoding, the SQL
// upsert against PostgreSQL) is the production code.
const REGION = "eu-west-1"
const POOL_ID = "eu-west-1_TestPool1"
const CLIENT_ID = "scopeline-web-client"
const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${POOL_ID}`

let signingKey: CryptoKey
let strangerKey: CryptoKey
let jwksServer: Server<unknown>
let idpServer: Server<unknown>
let jwksRequests = 0
let databaseUrl: string

interface CognitoUser {
  readonly sub: string
  readonly email: string
  readonly password: string
  groups: Array<string>
}
const idpUsers = new Map<string, CognitoUser>()
const idpRequests: Array<{ target: string | null; contentType: string | null; body: unknown }> = []

interface TokenOptions {
  readonly tokenUse?: "id" | "access"
  readonly groups?: ReadonlyArray<string> | undefined
  readonly issuer?: string
  readonly clientId?: string
  readonly expiresIn?: string | number
  readonly key?: CryptoKey
  readonly kid?: string
  readonly email?: string | undefined
  readonly givenName?: string
  readonly familyName?: string
}

/** A token shaped like Cognito's: RS256 with a kid, iss = the pool, a jti, token_use, aud or client_id, groups. */
const cognitoToken = (sub: string, options: TokenOptions = {}) => {
  const tokenUse = options.tokenUse ?? "id"
  const clientId = options.clientId ?? CLIENT_ID
  const claims: Record<string, unknown> = {
    token_use: tokenUse,
    auth_time: Math.floor(Date.now() / 1000),
    "cognito:username": sub,
    ...(options.groups === undefined ? {} : { "cognito:groups": options.groups }),
    ...(tokenUse === "id"
      ? {
          ...(options.email === undefined ? {} : { email: options.email }),
          email_verified: true,
          given_name: options.givenName ?? "Grace",
          family_name: options.familyName ?? "Hopper",
        }
      : { client_id: clientId, scope: "openid email" }),
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "cognito-key-1" })
    .setSubject(sub)
    .setIssuer(options.issuer ?? ISSUER)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(options.expiresIn ?? "1h")
  if (tokenUse === "id") jwt.setAudience(clientId)
  return jwt.sign(options.key ?? signingKey)
}

const verify = (token: string) => runtime.runPromiseExit(Effect.flatMap(Authentication, (auth) => auth.verify(token)))
const login = (login: string, password: string) =>
  runtime.runPromiseExit(Effect.flatMap(Authentication, (auth) => auth.login({ login, password }, "127.0.0.1")))

const failureOf = <A, E>(exit: Exit.Exit<A, E>) => {
  if (Exit.isSuccess(exit)) throw new Error(`expected a failure, got ${JSON.stringify(exit.value)}`)
  return Option.getOrThrowWith(Cause.failureOption(exit.cause), () => new Error(Cause.pretty(exit.cause)))
}
const valueOf = <A, E>(exit: Exit.Exit<A, E>) => {
  if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
  return exit.value
}

const userRow = (sub: string) =>
  runtime.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      sql<{ id: string; email: string; firstName: string | null; lastName: string | null; role: string; updatedAt: Date }>`
        SELECT id, email, first_name, last_name, role, updated_at FROM users WHERE cognito_sub = ${sub}`,
    ),
  )

const settings = (extra: Record<string, string> = {}) => ({
  AUTH: "cognito",
  COGNITO_USER_POOL_ID: POOL_ID,
  COGNITO_CLIENT_ID: CLIENT_ID,
  COGNITO_ENDPOINT: `http://127.0.0.1:${idpServer.port}/`,
  COGNITO_JWKS_URL: `http://127.0.0.1:${jwksServer.port}/${POOL_ID}/.well-known/jwks.json`,
  ...extra,
})

const pgLayer = () =>
  PgClient.layer({
    url: Redacted.make(databaseUrl),
    transformQueryNames: String.camelToSnake,
    transformResultNames: String.snakeToCamel,
  })

// Migrations run while the runtime builds, before the first verify needs the users table. Building
// errors are turned into defects so a test's typed failures are only the service's own errors.
const makeRuntime = () =>
  ManagedRuntime.make(
    Layer.merge(CognitoAuthenticationLive, Layer.effectDiscard(migrate())).pipe(
      Layer.provideMerge(pgLayer()),
      Layer.provide(configLayer(settings())),
      Layer.orDie,
    ),
  )
let runtime: ReturnType<typeof makeRuntime>

beforeAll(async () => {
  const pair = await generateKeyPair("RS256")
  signingKey = pair.privateKey
  strangerKey = (await generateKeyPair("RS256")).privateKey
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "cognito-key-1", alg: "RS256", use: "sig" }

  jwksServer = Bun.serve({
    port: 0,
    fetch: (request) => {
      jwksRequests++
      return new URL(request.url).pathname === `/${POOL_ID}/.well-known/jwks.json`
        ? Response.json({ keys: [jwk] })
        : new Response("not found", { status: 404 })
    },
  })

  idpServer = Bun.serve({
    port: 0,
    fetch: async (request) => {
      const body = (await request.json()) as {
        AuthFlow?: string
        ClientId?: string
        AuthParameters?: { USERNAME?: string; PASSWORD?: string }
      }
      idpRequests.push({
        target: request.headers.get("x-amz-target"),
        contentType: request.headers.get("content-type"),
        body,
      })
      const error = (type: string, message: string) =>
        Response.json({ __type: type, message }, { status: 400, headers: { "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.cognito.identity.idp.model/` } })
      if (body.AuthFlow !== "USER_PASSWORD_AUTH" || body.ClientId !== CLIENT_ID) {
        return error("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
      }
      const username = body.AuthParameters?.USERNAME ?? ""
      if (username === "busy@example.com") return error("TooManyRequestsException", "Too many requests")
      const user = idpUsers.get(username)
      if (!user || user.password !== body.AuthParameters?.PASSWORD) {
        return error("NotAuthorizedException", "Incorrect username or password.")
      }
      const IdToken = await cognitoToken(user.sub, { groups: user.groups, email: user.email })
      const AccessToken = await cognitoToken(user.sub, { groups: user.groups, tokenUse: "access" })
      return Response.json({
        AuthenticationResult: { IdToken, AccessToken, RefreshToken: "opaque", ExpiresIn: 3600, TokenType: "Bearer" },
        ChallengeParameters: {},
      })
    },
  })

  databaseUrl = await testDatabase("cognito")
  runtime = makeRuntime()
  await runtime.runPromise(Effect.void)
})

afterAll(async () => {
  await runtime?.dispose()
  jwksServer?.stop(true)
  idpServer?.stop(true)
})

describe("Cognito token verification", () => {
  test("a valid ID token yields a Principal with the role of its group and provisions our users row", async () => {
    const sub = crypto.randomUUID()
    const token = await cognitoToken(sub, { groups: ["accountant"], email: "Grace.Hopper@Example.com " })
    const principal = valueOf(await verify(token))
    expect(principal.role).toBe("accountant")

    const [row, ...others] = await userRow(sub)
    expect(others).toEqual([])
    expect(row).toMatchObject({ email: "grace.hopper@example.com", firstName: "Grace", lastName: "Hopper", role: "accountant" })
    // The principal carries OUR users.id, not Cognito's sub.
    expect(principal.userId as string).toBe(row!.id)
    expect(principal.userId).not.toBe(sub)
  })

  test("takes the highest role when the user is in several groups, ignoring unknown groups", async () => {
    const sub = crypto.randomUUID()
    const token = await cognitoToken(sub, { groups: ["viewer", "billing", "admin", "accountant"], email: `${sub}@example.com` })
    expect(valueOf(await verify(token)).role).toBe("admin")
  })

  test("the same user verified again keeps one row and the same id, without rewriting it", async () => {
    const sub = crypto.randomUUID()
    const token = await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com` })
    const first = valueOf(await verify(token))
    const [before] = await userRow(sub)
    const second = valueOf(await verify(token))
    const rows = await userRow(sub)
    expect(second.userId).toBe(first.userId)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.updatedAt).toEqual(before!.updatedAt)
  })

  test("a group change in Cognito updates the role on the next request, in the token and in our row", async () => {
    const sub = crypto.randomUUID()
    const email = `${sub}@example.com`
    const asViewer = valueOf(await verify(await cognitoToken(sub, { groups: ["viewer"], email })))
    const asAdmin = valueOf(await verify(await cognitoToken(sub, { groups: ["admin"], email })))
    expect(asViewer.role).toBe("viewer")
    expect(asAdmin).toMatchObject({ userId: asViewer.userId, role: "admin" })
    expect((await userRow(sub))[0]!.role).toBe("admin")
    const demoted = valueOf(await verify(await cognitoToken(sub, { groups: ["viewer"], email })))
    expect(demoted.role).toBe("viewer")
    expect((await userRow(sub))[0]!.role).toBe("viewer")
  })

  test("concurrent first requests of a new user provision exactly one row", async () => {
    const sub = crypto.randomUUID()
    const token = await cognitoToken(sub, { groups: ["accountant"], email: `${sub}@example.com` })
    const principals = (await Promise.all(Array.from({ length: 8 }, () => verify(token)))).map(valueOf)
    expect(new Set(principals.map((p) => p.userId)).size).toBe(1)
    expect(await userRow(sub)).toHaveLength(1)
  })

  test("an access token of a known user is accepted by its client_id and syncs the role", async () => {
    const sub = crypto.randomUUID()
    const viaId = valueOf(await verify(await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com` })))
    const viaAccess = valueOf(await verify(await cognitoToken(sub, { tokenUse: "access", groups: ["accountant"] })))
    expect(viaAccess).toMatchObject({ userId: viaId.userId, role: "accountant" })
  })

  test("an access token of a user never seen cannot provision a row (it has no email) and is refused", async () => {
    const sub = crypto.randomUUID()
    const error = failureOf(await verify(await cognitoToken(sub, { tokenUse: "access", groups: ["viewer"] })))
    expect(error).toMatchObject({ _tag: "Unauthorized" })
    expect(await userRow(sub)).toEqual([])
  })

  test("an email already used by another account is never linked to a new Cognito identity", async () => {
    const email = `${crypto.randomUUID()}@example.com`
    const owner = valueOf(await verify(await cognitoToken(crypto.randomUUID(), { groups: ["admin"], email })))
    const intruderSub = crypto.randomUUID()
    const error = failureOf(await verify(await cognitoToken(intruderSub, { groups: ["viewer"], email })))
    expect(error).toMatchObject({ _tag: "Unauthorized" })
    expect(await userRow(intruderSub)).toEqual([])
    expect(owner.role).toBe("admin")
  })

  test("an expired token is 401 and says so", async () => {
    const token = await cognitoToken(crypto.randomUUID(), {
      groups: ["viewer"],
      email: "late@example.com",
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    })
    const error = failureOf(await verify(token))
    expect(error).toMatchObject({ _tag: "Unauthorized", message: "The token has expired. Sign in again." })
  })

  test("a refused token names its holder only when it is a genuine token of a user already known here", async () => {
    const subjectOf = (token: string) => runtime.runPromise(Effect.flatMap(Authentication, (auth) => auth.subjectOf(token)))
    const sub = crypto.randomUUID()
    const token = await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com` })
    const principal = valueOf(await verify(token))
    await runtime.runPromise(Effect.flatMap(Authentication, (auth) => auth.signOut(token)))
    expect(failureOf(await verify(token)).status).toBe(401)
    expect(await subjectOf(token)).toEqual(Option.some({ userId: principal.userId }))
    // Never seen: nobody to name, and asking provisions no row.
    const stranger = crypto.randomUUID()
    expect(await subjectOf(await cognitoToken(stranger, { groups: ["viewer"], email: `${stranger}@example.com` }))).toEqual(Option.none())
    expect(await userRow(stranger)).toEqual([])
    // Another pool's token for the same sub is not believed.
    const foreign = await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com`, issuer: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_OtherPool` })
    expect(await subjectOf(foreign)).toEqual(Option.none())
  })

  test("a token from another user pool (issuer) is 401", async () => {
    const token = await cognitoToken(crypto.randomUUID(), {
      groups: ["admin"],
      email: "other-pool@example.com",
      issuer: `https://cognito-idp.${REGION}.amazonaws.com/${REGION}_OtherPool`,
    })
    expect(failureOf(await verify(token))).toMatchObject({ _tag: "Unauthorized" })
  })

  test("an ID token for another app client (aud) is 401, and so is an access token for another client_id", async () => {
    const sub = crypto.randomUUID()
    const idToken = await cognitoToken(sub, { groups: ["admin"], email: `${sub}@example.com`, clientId: "other-client" })
    expect(failureOf(await verify(idToken))).toMatchObject({ _tag: "Unauthorized" })
    const accessToken = await cognitoToken(sub, { tokenUse: "access", groups: ["admin"], clientId: "other-client" })
    expect(failureOf(await verify(accessToken))).toMatchObject({ _tag: "Unauthorized" })
    expect(await userRow(sub)).toEqual([])
  })

  test("a token signed by a key the pool's JWKS does not publish is 401, whether its kid is unknown or borrowed", async () => {
    const sub = crypto.randomUUID()
    const unknownKid = await cognitoToken(sub, { groups: ["admin"], email: `${sub}@example.com`, key: strangerKey, kid: "not-ours" })
    expect(failureOf(await verify(unknownKid))).toMatchObject({ _tag: "Unauthorized" })
    const borrowedKid = await cognitoToken(sub, { groups: ["admin"], email: `${sub}@example.com`, key: strangerKey })
    expect(failureOf(await verify(borrowedKid))).toMatchObject({ _tag: "Unauthorized" })
    expect(await userRow(sub)).toEqual([])
  })

  test("a token without the exp claim is 401 (Cognito always sets one)", async () => {
    const token = await new SignJWT({ token_use: "id", "cognito:groups": ["admin"], email: "forever@example.com" })
      .setProtectedHeader({ alg: "RS256", kid: "cognito-key-1" })
      .setSubject(crypto.randomUUID())
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .sign(signingKey)
    expect(failureOf(await verify(token))).toMatchObject({ _tag: "Unauthorized" })
  })

  test("something that is not a JWT is 400", async () => {
    for (const garbage of ["garbage", "a.b.c", "", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24"]) {
      expect({ garbage, error: failureOf(await verify(garbage)) }).toMatchObject({ garbage, error: { _tag: "TokenUnreadable" } })
    }
  })

  test("a user in none of our groups is refused with a message that says why", async () => {
    const sub = crypto.randomUUID()
    for (const groups of [undefined, [], ["billing"]]) {
      const error = failureOf(await verify(await cognitoToken(sub, { groups, email: `${sub}@example.com` })))
      expect(error).toMatchObject({ _tag: "Unauthorized" })
      expect(error.message).toContain("not in any Scopeline group")
    }
    expect(await userRow(sub)).toEqual([])
  })

  test("the JWKS is fetched once and cached, not once per request", async () => {
    const before = jwksRequests
    for (let i = 0; i < 5; i++) {
      const sub = crypto.randomUUID()
      valueOf(await verify(await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com` })))
    }
    expect(jwksRequests - before).toBe(0)
  })
})

describe("Cognito login (USER_PASSWORD_AUTH)", () => {
  test("returns Cognito's ID token as the jwt, with the principal of our provisioned user", async () => {
    const sub = crypto.randomUUID()
    idpUsers.set("ada@example.com", { sub, email: "ada@example.com", password: "Correct-Horse-1", groups: ["accountant"] })
    const { jwt, principal } = valueOf(await login("ada@example.com", "Correct-Horse-1"))
    const claims = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>
    expect(claims).toMatchObject({ token_use: "id", sub, aud: CLIENT_ID, iss: ISSUER })
    expect(principal.role).toBe("accountant")
    expect((await userRow(sub))[0]!.id).toBe(principal.userId)
    // The token it returns is one our verify accepts.
    expect(valueOf(await verify(jwt))).toEqual(principal)

    const request = idpRequests.at(-1)!
    expect(request.target).toBe("AWSCognitoIdentityProviderService.InitiateAuth")
    expect(request.contentType).toBe("application/x-amz-json-1.1")
    expect(request.body).toEqual({
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: CLIENT_ID,
      AuthParameters: { USERNAME: "ada@example.com", PASSWORD: "Correct-Horse-1" },
    })
  })

  test("a wrong password is 401 with the same message as local mode", async () => {
    idpUsers.set("bob@example.com", { sub: crypto.randomUUID(), email: "bob@example.com", password: "right", groups: ["viewer"] })
    const error = failureOf(await login("bob@example.com", "wrong"))
    expect(error).toMatchObject({ _tag: "Unauthorized", message: "The login or password is incorrect." })
  })

  test("an unknown login answers exactly like a wrong password", async () => {
    const error = failureOf(await login("nobody@example.com", "whatever"))
    expect(error).toMatchObject({ _tag: "Unauthorized", message: "The login or password is incorrect." })
  })

  test("Cognito throttling is 429 with a Retry-After", async () => {
    const error = failureOf(await login("busy@example.com", "whatever"))
    expect(error).toMatchObject({ _tag: "TooManyRequests" })
    expect(error._tag === "TooManyRequests" && error.retryAfterSeconds).toBeGreaterThan(0)
  })

  test("a correct password for a user in none of our groups is refused with the reason", async () => {
    idpUsers.set("nogroup@example.com", { sub: crypto.randomUUID(), email: "nogroup@example.com", password: "pw", groups: [] })
    const error = failureOf(await login("nogroup@example.com", "pw"))
    expect(error.message).toContain("not in any Scopeline group")
  })
})

describe("AUTH selects the implementation", () => {
  test("AUTH=cognito provides the Cognito-backed Authentication under the same service tag", async () => {
    const selected = ManagedRuntime.make(
      AuthenticationLive.pipe(Layer.provide(AuditLog.Default), Layer.provide(pgLayer()), Layer.provide(configLayer(settings()))),
    )
    try {
      const sub = crypto.randomUUID()
      const token = await cognitoToken(sub, { groups: ["viewer"], email: `${sub}@example.com` })
      const principal = await selected.runPromise(Effect.flatMap(Authentication, (auth) => auth.verify(token)))
      expect(principal.role).toBe("viewer")
    } finally {
      await selected.dispose()
    }
  })
})
