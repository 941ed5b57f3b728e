import { describe, expect, test } from "bun:test"
import { checkedTokens, Principal, Tokens } from "@scopeline/accounts"
import { JwtSecret } from "@scopeline/identity/JwtSecret"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { Effect, Either, Layer, ManagedRuntime } from "effect"
import { SignJWT } from "jose"
import { configLayer, testSettings } from "../support/config.ts"

const USER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

const SETTINGS = testSettings()

const tokensRuntime = () =>
  ManagedRuntime.make(
    Tokens.DefaultWithoutDependencies.pipe(
      Layer.provideMerge(JwtSecret.DefaultWithoutDependencies),
      Layer.provideMerge(AppConfig.Default),
      Layer.provide(configLayer(SETTINGS)),
    ),
  )

/** Runs `use` with the service and a token it has just issued (and so not yet checked). */
const withIssuedToken = async <A, E>(use: (tokens: Tokens, token: string) => Effect.Effect<A, E>) => {
  const runtime = tokensRuntime()
  try {
    return await runtime.runPromise(
      Effect.gen(function* () {
        const tokens = yield* Tokens
        return yield* use(tokens, yield* tokens.issue(new Principal({ userId: USER as never, role: "admin" })))
      }),
    )
  } finally {
    await runtime.dispose()
  }
}

const verified = (token: string) => ({
  principal: new Principal({ userId: USER as never, role: "admin" }),
  tokenId: token,
  expiresAt: new Date(Date.now() + 60_000),
  issuedAt: new Date(),
  issuedAtExact: true,
})

describe("checked tokens", () => {
  test("a token is checked once: its second use answers the same verification, not a new one", async () => {
    const result = await withIssuedToken((tokens, token) =>
      Effect.gen(function* () {
        return { first: yield* tokens.verify(token), second: yield* tokens.verify(token) }
      }),
    )
    expect(result.second).toBe(result.first)
  })

  test("a checked token is still refused once it expires", async () => {
    const runtime = tokensRuntime()
    try {
      // A token of ours (same key, issuer and claims) that expires in 2–3 s: the TTL setting's floor is 60 s.
      const now = Math.floor(Date.now() / 1000)
      const exp = now + 3
      const token = await new SignJWT({ uuid: USER, role: "admin", iat_ms: Date.now() })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(USER)
        .setIssuer("scopeline")
        .setIssuedAt(now)
        .setJti(crypto.randomUUID())
        .setExpirationTime(exp)
        .sign(new TextEncoder().encode(SETTINGS.JWT_SECRET))
      const verify = () => runtime.runPromise(Effect.either(Effect.flatMap(Tokens, (tokens) => tokens.verify(token))))
      expect(Either.isRight(await verify())).toBe(true)
      expect(Either.isRight(await verify())).toBe(true)
      await Bun.sleep(exp * 1000 - Date.now() + 100)
      const later = await verify()
      expect(Either.isLeft(later) && later.left).toMatchObject({ _tag: "Unauthorized", message: "The token has expired. Sign in again." })
    } finally {
      await runtime.dispose()
    }
  })

  test("a tampered copy of a checked token is refused: only the exact text that passed is remembered", async () => {
    const outcome = await withIssuedToken((tokens, token) =>
      Effect.gen(function* () {
        yield* tokens.verify(token)
        const [header, payload, signature] = token.split(".") as [string, string, string]
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>
        const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: "admin", sub: crypto.randomUUID() })).toString("base64url")}.${signature}`
        return yield* Effect.either(tokens.verify(forged))
      }),
    )
    expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "Unauthorized" })
  })

  test("the memory is bounded: past its capacity the oldest token goes first", () => {
    const memory = checkedTokens(2)
    const now = Date.now()
    memory.set("a", verified("a"))
    memory.set("b", verified("b"))
    memory.set("c", verified("c"))
    expect(memory.size).toBe(2)
    expect(memory.get("a", now)).toBeUndefined()
    expect(memory.get("b", now)?.tokenId).toBe("b")
    expect(memory.get("c", now)?.tokenId).toBe("c")
  })

  test("an entry answers until the millisecond its token expires, and not from then on", () => {
    const memory = checkedTokens()
    const entry = verified("t")
    memory.set("t", entry)
    expect(memory.get("t", entry.expiresAt.getTime() - 1)).toBe(entry)
    expect(memory.get("t", entry.expiresAt.getTime())).toBeUndefined()
    // Gone for good: a later clock reading cannot bring it back.
    expect(memory.size).toBe(0)
  })
})
