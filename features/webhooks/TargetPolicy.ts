import { Config, Effect } from "effect"
import { lookup } from "node:dns/promises"
import { BlockList, isIP } from "node:net"
import { WebhookTargetRefused } from "./errors.ts"

/**
 * WEBHOOK_TARGETS: which addresses a webhook may reach. `public` (AWS mode, set by the stack): only
 * public addresses, so a webhook cannot be pointed at the VPC, the instance metadata service or the
 * task itself. `public_and_loopback` (default, embedded mode): loopback too, so the product can be
 * tried and tested on one machine. Private, link-local and metadata addresses are refused in both.
 */
export const webhookTargets = Config.literal("public", "public_and_loopback")("WEBHOOK_TARGETS").pipe(
  Config.withDefault("public_and_loopback" as const),
)

const loopback = new BlockList()
loopback.addSubnet("127.0.0.0", 8, "ipv4")
loopback.addAddress("::1", "ipv6")

const notPublic = new BlockList()
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["169.254.0.0", 16], // link-local, including the cloud metadata address 169.254.169.254
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24], // documentation (TEST-NET-1, -2, -3)
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4],
] as const) {
  notPublic.addSubnet(network, prefix, "ipv4")
}
for (const [network, prefix] of [
  ["::", 128],
  // Forms that carry an IPv4 address, which a gateway or relay may reach on the host's behalf:
  // IPv4-compatible (::a.b.c.d, deprecated; ::1 is judged as loopback first), NAT64, 6to4, Teredo.
  ["::", 96],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["2002::", 16],
  ["2001::", 32],
  ["2001:db8::", 32], // documentation
  ["100::", 64], // discard-only
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["fd00:ec2::", 32], // the EC2 metadata service over IPv6
] as const) {
  notPublic.addSubnet(network, prefix, "ipv6")
}

const familyOf = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4")

/** Why `address` may not be reached under `targets`, if it may not. */
export const refusalOf = (address: string, targets: "public" | "public_and_loopback"): string | undefined => {
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  const plain = mapped ?? address
  const family = familyOf(plain)
  if (loopback.check(plain, family)) return targets === "public" ? "a loopback address" : undefined
  if (notPublic.check(plain, family)) return "a private, link-local or reserved address"
  return undefined
}

/**
 * Checks a webhook URL: http(s) only, and every address its host resolves to must be allowed. Checked
 * when a webhook is created and again before every delivery (a name may resolve elsewhere later).
 * Answers the URL as the URL parser reads it ("HTTP://Host" is "http://host/"): the address that is
 * checked is the one stored and called.
 */
export const checkTarget = (url: string) =>
  Effect.gen(function* () {
    const targets = yield* webhookTargets.pipe(Effect.orDie)
    const parsed = URL.canParse(url) ? new URL(url) : undefined
    if (parsed === undefined || (parsed.protocol !== "https:" && parsed.protocol !== "http:") || parsed.username !== "" || parsed.password !== "") {
      return yield* new WebhookTargetRefused({ message: "The webhook URL must be an http:// or https:// address without credentials.", details: { field: "url" } })
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, "")
    const addresses =
      isIP(host) !== 0
        ? [host]
        : yield* Effect.tryPromise({
            try: () => lookup(host, { all: true, verbatim: true }).then((found) => found.map((entry) => entry.address)),
            catch: () => new WebhookTargetRefused({ message: `The webhook host ${host} cannot be resolved.`, details: { field: "url" } }),
          })
    for (const address of addresses) {
      const refusal = refusalOf(address, targets)
      if (refusal !== undefined) {
        return yield* new WebhookTargetRefused({
          message: `The webhook URL resolves to ${refusal} (${address}), which webhooks may not reach.`,
          details: { field: "url", address },
        })
      }
    }
    return parsed.href
  })
