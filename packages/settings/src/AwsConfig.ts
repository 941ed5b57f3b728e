import { Config, Option, Redacted } from "effect"

/**
 * Settings every AWS client shares: the region and optional static credentials. Credentials are read
 * through Config (the same variables the SDK's chain would read) so tests stay hermetic; when absent
 * the SDK's default chain applies (ECS task role, instance profile, SSO, …).
 */
export const AwsConfig = Config.all({
  region: Config.nonEmptyString("AWS_REGION").pipe(Config.withDefault("us-east-1")),
  credentials: Config.option(
    Config.all({
      accessKeyId: Config.nonEmptyString("AWS_ACCESS_KEY_ID"),
      secretAccessKey: Config.redacted("AWS_SECRET_ACCESS_KEY"),
      sessionToken: Config.option(Config.redacted("AWS_SESSION_TOKEN")),
    }),
  ),
})
export type AwsConfig = Config.Config.Success<typeof AwsConfig>

/**
 * Options for an AWS SDK v3 client. An unanswered call fails after `requestTimeoutMs` of socket
 * silence instead of hanging a request, a parse or the outbox relay forever.
 */
export const awsClientOptions = (config: AwsConfig, requestTimeoutMs: number) => ({
  region: config.region,
  requestHandler: { connectionTimeout: 5_000, requestTimeout: requestTimeoutMs },
  ...Option.match(config.credentials, {
    onNone: () => ({}),
    onSome: (credentials) => ({
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: Redacted.value(credentials.secretAccessKey),
        ...Option.match(credentials.sessionToken, {
          onNone: () => ({}),
          onSome: (token) => ({ sessionToken: Redacted.value(token) }),
        }),
      },
    }),
  }),
})
