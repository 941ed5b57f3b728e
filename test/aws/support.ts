import type { Server } from "bun"
import { startFauxqs, type FauxqsServer } from "fauxqs"
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose"
import type { SettingName } from "@scopeline/settings/Settings"
import { appEnvironment } from "../../infra/src/environment.ts"
import { EXPORT_MAX_RECEIVE_COUNT } from "../../infra/src/queues.ts"

/**
 * Stand-ins for the AWS boundary of AWS mode, each a real HTTP server:
 * - fauxqs: S3 (bucket, presigned POST uploads) and SQS (work queues with redrive to their DLQs);
 * - a fake Cognito: the pool's JWKS endpoint and the InitiateAuth endpoint, issuing RS256 ID tokens
 *   shaped like Cognito's (issuer = the pool, `token_use: id`, `aud`, `cognito:groups`).
 * `stackSettings` gives the env vars that switch the apps to AWS mode against them: the stack's own.
 */

export const REGION = "eu-west-1"
export const BUCKET = "scopeline-tenant-uploads"
export const POOL_ID = "eu-west-1_AwsModeTest"
export const CLIENT_ID = "scopeline-aws-mode-client"
export const ISSUER = `https://cognito-idp.${REGION}.amazonaws.com/${POOL_ID}`

export interface AwsQueues {
  readonly parse: { readonly url: string; readonly name: string; readonly dlqUrl: string; readonly dlqName: string }
  readonly match: { readonly url: string; readonly name: string; readonly dlqUrl: string; readonly dlqName: string }
  readonly export: { readonly url: string; readonly name: string; readonly dlqUrl: string; readonly dlqName: string }
}

export interface FakeAws {
  readonly fauxqs: FauxqsServer
  readonly queues: AwsQueues
  readonly stop: () => Promise<void>
}

/** fauxqs with the tenant's bucket and both work queues, each redriving to its DLQ after `maxReceiveCount`. */
export const startFakeAws = async (maxReceiveCount: number): Promise<FakeAws> => {
  // The spy lets the test see S3's "object created" the way a bucket notification would.
  const fauxqs = await startFauxqs({ port: 0, logger: false, messageSpies: { bufferSize: 2_000 } })
  fauxqs.createBucket(BUCKET)
  const queue = (name: "parse" | "match" | "export", receives = maxReceiveCount) => {
    const dlq = fauxqs.createQueue(`scopeline-${name}-dlq`, { region: REGION })
    const work = fauxqs.createQueue(`scopeline-${name}`, {
      region: REGION,
      attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(receives) }),
      },
    })
    return { url: work.queueUrl, name: work.queueName, dlqUrl: dlq.queueUrl, dlqName: dlq.queueName }
  }
  const queues = { parse: queue("parse"), match: queue("match"), export: queue("export", EXPORT_MAX_RECEIVE_COUNT) }
  return { fauxqs, queues, stop: () => fauxqs.stop() }
}

export interface CognitoAccount {
  readonly sub: string
  readonly email: string
  readonly password: string
  /** FORCE_CHANGE_PASSWORD after AdminCreateUser: the first sign-in must choose a new password. */
  readonly mustChangePassword?: boolean
  readonly enabled?: boolean
  readonly groups: ReadonlyArray<string>
  readonly givenName: string
  readonly familyName: string
}

export interface FakeCognito {
  readonly endpoint: string
  readonly jwksUrl: string
  /** Every InitiateAuth request the IdP received. */
  readonly requests: Array<{ readonly target: string | null; readonly body: unknown }>
  readonly addUser: (user: Omit<CognitoAccount, "sub">) => CognitoAccount
  /** An administrator moving the user to other groups in the pool. */
  readonly setGroups: (email: string, groups: ReadonlyArray<string>) => void
  /** The pool's user as it is now (as the Cognito console shows it). */
  readonly user: (email: string) => CognitoAccount | undefined
  /** The temporary password Cognito mailed to an invited user (what the invitation email says). */
  readonly invitationMail: (email: string) => string | undefined
  readonly stop: () => void
}

/** The pool's JWKS and an InitiateAuth (USER_PASSWORD_AUTH) endpoint, answering like Cognito. */
export const startFakeCognito = async (): Promise<FakeCognito> => {
  const pair = await generateKeyPair("RS256")
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "aws-mode-key-1", alg: "RS256", use: "sig" }
  const signingKey: CryptoKey = pair.privateKey
  const users = new Map<string, CognitoAccount>()
  const requests: FakeCognito["requests"] = []
  const mails = new Map<string, string>()
  const sessions = new Map<string, string>()

  const idToken = (user: CognitoAccount) =>
    new SignJWT({
      token_use: "id",
      auth_time: Math.floor(Date.now() / 1000),
      "cognito:username": user.sub,
      "cognito:groups": [...user.groups],
      email: user.email,
      email_verified: true,
      given_name: user.givenName,
      family_name: user.familyName,
    })
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid! })
      .setSubject(user.sub)
      .setIssuer(ISSUER)
      .setAudience(CLIENT_ID)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(signingKey)

  const server: Server<unknown> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      const url = new URL(request.url)
      if (request.method === "GET" && url.pathname === `/${POOL_ID}/.well-known/jwks.json`) {
        return Response.json({ keys: [jwk] })
      }
      if (request.method !== "POST" || url.pathname !== "/") return new Response("not found", { status: 404 })
      const target = request.headers.get("x-amz-target")
      const body = (await request.json()) as {
        AuthFlow?: string
        ClientId?: string
        AuthParameters?: { USERNAME?: string; PASSWORD?: string }
        Username?: string
        GroupName?: string
        UserAttributes?: Array<{ Name: string; Value: string }>
        Session?: string
        ChallengeResponses?: { USERNAME?: string; NEW_PASSWORD?: string }
      }
      requests.push({ target, body })
      const error = (type: string, message: string) =>
        Response.json({ __type: type, message }, { status: 400, headers: { "x-amzn-errortype": type } })
      const operation = target?.replace("AWSCognitoIdentityProviderService.", "")
      // The admin API (signed by the caller's AWS credentials, which this fake does not check).
      if (operation?.startsWith("Admin")) {
        const username = body.Username ?? ""
        const existing = users.get(username)
        switch (operation) {
          case "AdminCreateUser": {
            if (existing) return error("UsernameExistsException", "User account already exists")
            const attribute = (name: string) => body.UserAttributes?.find((a) => a.Name === name)?.Value ?? ""
            const temporary = `Tmp-${crypto.randomUUID()}`
            const account: CognitoAccount = {
              sub: crypto.randomUUID(),
              email: attribute("email") || username,
              password: temporary,
              mustChangePassword: true,
              groups: [],
              givenName: attribute("given_name"),
              familyName: attribute("family_name"),
            }
            users.set(username, account)
            mails.set(username, temporary)
            return Response.json({
              User: { Username: username, Enabled: true, UserStatus: "FORCE_CHANGE_PASSWORD", Attributes: [{ Name: "sub", Value: account.sub }, ...(body.UserAttributes ?? [])] },
            })
          }
          case "AdminAddUserToGroup":
          case "AdminRemoveUserFromGroup":
          case "AdminDisableUser":
          case "AdminEnableUser":
          case "AdminDeleteUser": {
            if (!existing) return error("UserNotFoundException", "User does not exist.")
            if (operation === "AdminDeleteUser") users.delete(username)
            else if (operation === "AdminAddUserToGroup") users.set(username, { ...existing, groups: [...new Set([...existing.groups, body.GroupName!])] })
            else if (operation === "AdminRemoveUserFromGroup") users.set(username, { ...existing, groups: existing.groups.filter((g) => g !== body.GroupName) })
            else users.set(username, { ...existing, enabled: operation === "AdminEnableUser" })
            return Response.json({})
          }
          default:
            return error("UnknownOperationException", `unsupported target ${target}`)
        }
      }
      if (operation === "RespondToAuthChallenge") {
        const username = body.ChallengeResponses?.USERNAME ?? ""
        const user = users.get(username)
        if (!user || sessions.get(body.Session ?? "") !== username) return error("NotAuthorizedException", "Invalid session for the user.")
        const chosen = body.ChallengeResponses?.NEW_PASSWORD ?? ""
        if (chosen.length < 8) return error("InvalidPasswordException", "Password did not conform with policy: Password not long enough")
        sessions.delete(body.Session ?? "")
        const confirmed = { ...user, password: chosen, mustChangePassword: false }
        users.set(username, confirmed)
        return Response.json({ AuthenticationResult: { IdToken: await idToken(confirmed), ExpiresIn: 3600, TokenType: "Bearer" }, ChallengeParameters: {} })
      }
      if (target !== "AWSCognitoIdentityProviderService.InitiateAuth") {
        return error("UnknownOperationException", `unsupported target ${target}`)
      }
      if (body.AuthFlow !== "USER_PASSWORD_AUTH" || body.ClientId !== CLIENT_ID) {
        return error("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")
      }
      const user = users.get(body.AuthParameters?.USERNAME ?? "")
      if (!user || user.password !== body.AuthParameters?.PASSWORD) {
        return error("NotAuthorizedException", "Incorrect username or password.")
      }
      if (user.enabled === false) return error("NotAuthorizedException", "User is disabled.")
      if (user.mustChangePassword) {
        const session = crypto.randomUUID()
        sessions.set(session, body.AuthParameters?.USERNAME ?? "")
        return Response.json({ ChallengeName: "NEW_PASSWORD_REQUIRED", Session: session, ChallengeParameters: {} })
      }
      return Response.json({
        AuthenticationResult: {
          IdToken: await idToken(user),
          AccessToken: "opaque-access-token",
          RefreshToken: "opaque-refresh-token",
          ExpiresIn: 3600,
          TokenType: "Bearer",
        },
        ChallengeParameters: {},
      })
    },
  })

  return {
    endpoint: `http://127.0.0.1:${server.port}/`,
    jwksUrl: `http://127.0.0.1:${server.port}/${POOL_ID}/.well-known/jwks.json`,
    requests,
    addUser: (user) => {
      const account = { ...user, sub: crypto.randomUUID() }
      users.set(user.email, account)
      return account
    },
    user: (email) => users.get(email),
    invitationMail: (email) => mails.get(email),
    setGroups: (email, groups) => {
      const user = users.get(email)
      if (!user) throw new Error(`no Cognito user ${email}`)
      users.set(email, { ...user, groups })
    },
    stop: () => void server.stop(true),
  }
}

/**
 * What the tenant stack gives the containers (infra/src/environment.ts, the same function `pulumi up`
 * runs), filled with the fakes' addresses, plus only what the test's world adds: the emulator endpoints
 * and static credentials (in AWS the task role and AWS's own endpoints), which the stack never sets.
 * A setting the app needs in AWS that the stack forgot is then missing here too.
 */
export const stackSettings = (aws: FakeAws, cognito: FakeCognito, args: { readonly maxReceiveCount: number; readonly matcherUrl: string }) => {
  const fromStack = appEnvironment<string>({
    bucketName: BUCKET,
    region: REGION,
    parseQueueUrl: aws.queues.parse.url,
    matchQueueUrl: aws.queues.match.url,
    parseDeadLetterQueueUrl: aws.queues.parse.dlqUrl,
    matchDeadLetterQueueUrl: aws.queues.match.dlqUrl,
    exportQueueUrl: aws.queues.export.url,
    exportDeadLetterQueueUrl: aws.queues.export.dlqUrl,
    maxReceiveCount: args.maxReceiveCount,
    userPoolId: POOL_ID,
    userPoolClientId: CLIENT_ID,
    matcherUrl: args.matcherUrl,
    publicUrl: "https://tenant.scopeline.example",
    // Unused: the test's DATABASE_URL takes precedence over PGHOST.
    databaseHost: "aurora.invalid",
    databasePort: "5432",
    databaseName: "scopeline",
    environmentName: "acme",
  })
  const local: Partial<Record<SettingName, string>> = {
    S3_ENDPOINT: aws.fauxqs.address,
    SQS_ENDPOINT: aws.fauxqs.address,
    AWS_ACCESS_KEY_ID: "test-access-key",
    AWS_SECRET_ACCESS_KEY: "test-secret-key",
    COGNITO_ENDPOINT: cognito.endpoint,
    COGNITO_JWKS_URL: cognito.jwksUrl,
  }
  return { ...Object.fromEntries(fromStack.map((v) => [v.name, v.value])), ...local }
}

/**
 * A switchable stand-in in front of the matcher: while `down`, every request is a 503 (an outage);
 * otherwise it forwards to the real matcher.
 */
export const startSwitchableProxy = (upstream: string) => {
  let down = false
  /** How many times each distinct request body was answered 503: a job's keys are asked once per delivery. */
  const refused = new Map<string, number>()
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (request) => {
      if (down) {
        const body = await request.text()
        refused.set(body, (refused.get(body) ?? 0) + 1)
        return Response.json({ error: { code: "unavailable", message: "matcher outage (test)" } }, { status: 503 })
      }
      const url = new URL(request.url)
      return fetch(`${upstream.replace(/\/+$/, "")}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
      })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** The most deliveries that reached the matcher for any one request while it was down. */
    refusedRounds: () => Math.max(0, ...refused.values()),
    setDown: (value: boolean) => {
      down = value
    },
    stop: () => void server.stop(true),
  }
}

export interface PresignedPost {
  readonly upload_id: string
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly fields?: Record<string, string>
  readonly expires_at: string
  readonly max_bytes: number
}

/** What a browser does with a presigned POST: every field, then the file as the last field. */
export const postToS3 = (target: PresignedPost, content: string, filename = "activities.csv") => {
  const form = new FormData()
  for (const [name, value] of Object.entries(target.fields ?? {})) form.append(name, value)
  form.append("file", new Blob([content], { type: "text/csv" }), filename)
  return fetch(target.url, { method: target.method, headers: target.headers, body: form })
}

/** S3's ObjectCreated notification for one key, as the bucket sends it to SQS (keys URL-encoded, `+` for spaces). */
export const objectCreatedEvent = (bucket: string, key: string, size: number) =>
  JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: REGION,
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Post",
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "scopeline-uploads-to-parse",
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"), size },
        },
      },
    ],
  })

export const eventually = async <A>(
  probe: () => Promise<A>,
  done: (value: A) => boolean,
  timeoutMs: number,
  what: string,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last = await probe()
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: timed out; last value ${JSON.stringify(last)}`)
    await Bun.sleep(100)
    last = await probe()
  }
  return last
}

export { startServerWith } from "../support/server.ts"
