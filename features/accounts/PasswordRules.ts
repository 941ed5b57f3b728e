import { WeakPassword } from "./errors.ts"
import { Effect } from "effect"

export const MIN_PASSWORD_LENGTH = 12

/**
 * Passwords people pick first. Matched after the password is lower-cased and stripped of the digits
 * and symbols people add around a word to pass a length rule ("Password1234!" is "password"), so a
 * short list covers the common long forms too. Kept to what attackers try first (the lists of leaked
 * passwords are headed by these bases).
 */
const COMMON_BASES = new Set([
  "password", "passw0rd", "pass", "qwerty", "qwertyuiop", "qwertyuiopasdfgh", "asdfghjkl", "zxcvbnm", "azerty",
  "letmein", "welcome", "iloveyou", "admin", "administrator", "monkey", "dragon", "football", "baseball",
  "sunshine", "princess", "trustno", "abc", "abcdef", "abcdefgh", "master", "shadow", "superman", "batman",
  "starwars", "whatever", "freedom", "secret", "changeme", "login", "hello", "charlie", "michael", "jennifer",
  "computer", "internet", "summer", "winter", "spring", "autumn", "scopeline", "carbon", "default", "guest",
  "test", "testing", "user", "root", "temp", "demo", "scopelinedemo", "mustang", "jordan", "hunter", "ranger",
  "soccer", "hockey", "killer", "liverpool", "chelsea", "arsenal", "pokemon", "naruto", "cheese", "cookie",
  "loveme", "lovely", "flower", "tigger", "pepper", "ginger", "buster", "thomas", "robert", "daniel",
])
/** A repeated chunk or a run of consecutive characters: "111111111111", "abcabcabcabc", "abcdefghijkl". */
const isSequenceOrRepeat = (text: string) => {
  if (/^(.{1,4})\1+$/.test(text)) return true
  const codes = [...text].map((c) => c.charCodeAt(0))
  const steps = new Set(codes.slice(1).map((code, i) => code - codes[i]!))
  return steps.size === 1 && [...steps].every((step) => Math.abs(step) === 1)
}

/** Which rule a password breaks, if any; the same rules for invitations and password changes. */
export const passwordProblem = (password: string, email: string): string | undefined => {
  if ([...password].length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters long`
  const lower = password.toLowerCase()
  const address = email.trim().toLowerCase()
  const localPart = address.split("@")[0] ?? ""
  if (lower === address || lower.includes(address) || (localPart.length >= 4 && lower.includes(localPart))) {
    return "must not contain your email address"
  }
  const base = lower.replace(/^[^a-z]+|[^a-z]+$/g, "")
  const keyboardRun = /0123456|1234567|2345678|3456789|9876543|8765432|7654321|6543210/.test(lower)
  if (isSequenceOrRepeat(lower) || (base === "" && keyboardRun) || COMMON_BASES.has(base) || (base !== "" && isSequenceOrRepeat(base))) {
    return "is too common: choose a password others would not guess (a few unrelated words work well)"
  }
  return undefined
}

/** `field` names the input in the 400's details ("password" when accepting an invitation, "new_password" when changing it). */
export const checkPassword = (password: string, email: string, field = "password") => {
  const problem = passwordProblem(password, email)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new WeakPassword({ message: `The password ${problem}.`, details: { field, rule: ruleOf(problem) } }))
}

const ruleOf = (problem: string) =>
  problem.startsWith("must be at least") ? "min_length" : problem.startsWith("must not contain") ? "contains_email" : "common"
