/**
 * The address a request came from, recorded by the server's fetch handler (which alone sees Bun's
 * socket) and read by the routes that need it, such as sign-in throttling.
 *
 * `X-Forwarded-For` is believed only when the server is told it sits behind a proxy
 * (`TRUSTED_PROXY=true`): otherwise any client could name a fresh address per request and never be
 * throttled. Behind a proxy the last entry is the one the proxy itself appended; entries before it
 * were written by the client and are ignored for the same reason.
 */
const addresses = new WeakMap<Request, string>()

export const UNKNOWN_ADDRESS = "unknown"

export const rememberClientAddress = (request: Request, socketAddress: string | undefined, trustProxy: boolean) => {
  const forwarded = trustProxy ? request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim() : undefined
  addresses.set(request, forwarded || socketAddress || UNKNOWN_ADDRESS)
}

export const clientAddressOf = (request: Request): string => addresses.get(request) ?? UNKNOWN_ADDRESS
