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
  ["192.88.99.0", 24], // the 6to4 relays' anycast
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
  // The unspecified address and the deprecated IPv4-compatible form (::a.b.c.d); ::1 is judged as
  // loopback first. Forms that carry an IPv4 address a gateway reaches are judged by that address
  // (embeddedIpv4), except those whose embedding this server cannot know: local-use NAT64 and Teredo.
  ["::", 96],
  ["64:ff9b:1::", 48],
  ["2001::", 32],
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["100::", 64], // discard-only
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
  ["fd00:ec2::", 32], // the EC2 metadata service over IPv6
] as const) {
  notPublic.addSubnet(network, prefix, "ipv6")
}

const familyOf = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4")

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 at its end is its last two). */
const groupsOf = (address: string): ReadonlyArray<number> | undefined => {
  let text = address.toLowerCase()
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = "", tail] = text.split("::")
  const before = head === "" ? [] : head.split(":")
  const after = tail === undefined || tail === "" ? [] : tail.split(":")
  const groups = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill("0"), ...after]
  return groups.length === 8 ? groups.map((group) => Number.parseInt(group, 16)) : undefined
}

/**
 * The IPv4 address an IPv6 address stands for, in the forms whose embedding is fixed: IPv4-mapped
 * (::ffff:a.b.c.d) and -translated (::ffff:0:a.b.c.d), the well-known NAT64 prefix (64:ff9b::/96,
 * which DNS64 answers with for every IPv4-only host) and 6to4 (2002:AABB:CCDD::/48).
 */
export const embeddedIpv4 = (address: string): string | undefined => {
  if (isIP(address) !== 6) return undefined
  const g = groupsOf(address)
  if (g === undefined) return undefined
  const ipv4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0)
  if (zeros(0, 5) && g[5] === 0xffff) return ipv4(g[6]!, g[7]!)
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return ipv4(g[6]!, g[7]!)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return ipv4(g[6]!, g[7]!)
  if (g[0] === 0x2002) return ipv4(g[1]!, g[2]!)
  return undefined
}

/** Why `address` may not be reached under `targets`, if it may not. */
export const refusalOf = (address: string, targets: "public" | "public_and_loopback"): string | undefined => {
  const plain = embeddedIpv4(address) ?? address
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
    // The parsed form is what is stored: percent-encoding and punycode can make it longer than the text sent.
    if (parsed.href.length > 2000) {
      return yield* new WebhookTargetRefused({ message: "The webhook URL is longer than 2,000 characters.", details: { field: "url" } })
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
