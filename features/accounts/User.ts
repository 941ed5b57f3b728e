import { Schema } from "effect"
import { Role } from "./Role.ts"

export const UserId = Schema.UUID.pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type

export const Email = Schema.String.pipe(
  Schema.trimmed(),
  Schema.lowercased(),
  Schema.pattern(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: () => "must be an email address" }),
  // What mail systems deliver (RFC 5321): a longer address would be accepted here and bounce there.
  Schema.filter((email) => (email.length <= 254 && email.indexOf("@") <= 64) || "is longer than an email address can be (64 characters before the @, 254 in all)"),
)

export const TimeFormat = Schema.Literal(12, 24)

export class User extends Schema.Class<User>("User")({
  id: UserId,
  email: Schema.String,
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  role: Role,
  marketingOptedIn: Schema.Boolean,
  timeFormat: TimeFormat,
  timezone: Schema.String,
  active: Schema.Boolean,
}) {}

/** The authenticated caller, as carried by a verified token. */
export class Principal extends Schema.Class<Principal>("Principal")({
  userId: UserId,
  role: Role,
}) {}
