import type { Role } from "./Role.ts"
import type { UserId } from "./User.ts"

/**
 * Every feature flag the product knows, declared in one place. A flag is on for a user when the
 * user's role is allowed (if the flag names roles) and the user falls inside the rollout cohort.
 */
export interface FlagRule {
  readonly description: string
  readonly roles?: ReadonlyArray<Role>
  /** Percentage of users (0–100) that get the flag, chosen deterministically by user id. */
  readonly rolloutPercent: number
}

export const featureFlags = {
  product_tips: { description: "Product tips on the home page", rolloutPercent: 100 },
  dark_theme_selector: { description: "Dark theme selector in the header", rolloutPercent: 50 },
  ops_console: { description: "Queue and dead-letter console", roles: ["admin"], rolloutPercent: 100 },
  bulk_upload_hints: {
    description: "Hints for preparing large upload files",
    roles: ["admin", "accountant"],
    rolloutPercent: 100,
  },
} as const satisfies Record<string, FlagRule>

export type FeatureFlag = keyof typeof featureFlags

/**
 * Bucket 0–99 from FNV-1a over flag + user id: stable across processes and releases, and
 * independent per flag, so the same users are not always the ones in every experiment.
 */
export const cohortBucket = (flag: string, userId: string): number => {
  let hash = 0x811c9dc5
  for (const ch of `${flag}:${userId}`) {
    hash ^= ch.charCodeAt(0)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % 100
}

export const isEnabled = (flag: FeatureFlag, user: { readonly userId: UserId; readonly role: Role }): boolean => {
  const rule: FlagRule = featureFlags[flag]
  if (rule.roles !== undefined && !rule.roles.includes(user.role)) return false
  return cohortBucket(flag, user.userId) < rule.rolloutPercent
}

export const enabledFlags = (user: { readonly userId: UserId; readonly role: Role }): Array<FeatureFlag> =>
  (Object.keys(featureFlags) as Array<FeatureFlag>).filter((flag) => isEnabled(flag, user))
