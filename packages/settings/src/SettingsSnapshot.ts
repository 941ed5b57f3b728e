import { ConfigProvider, Either, Layer } from "effect"
import { type SettingDeclaration, settings } from "./Settings.ts"

export type SettingName = keyof typeof settings

const BOOLEAN = /^(true|false|yes|no|on|off|1|0|y|n)$/i

/** Why `text` is not a valid value of the declared setting, or undefined when it is. */
export const settingProblem = (declaration: SettingDeclaration, text: string): string | undefined => {
  const value = text.trim()
  switch (declaration.kind) {
    case "integer":
      return /^-?\d{1,15}$/.test(value) ? undefined : `expected a whole number, got "${text}"`
    case "number":
      return value !== "" && Number.isFinite(Number(value)) ? undefined : `expected a number, got "${text}"`
    case "port":
      return /^\d{1,5}$/.test(value) && Number(value) <= 65_535 ? undefined : `expected a network port (0–65535), got "${text}"`
    case "boolean":
      return BOOLEAN.test(value) ? undefined : `expected true or false, got "${text}"`
    case "url":
      return URL.canParse(value) ? undefined : `expected a URL such as http://host:port, got "${text}"`
    case "literal": {
      const same = (allowed: string) => (declaration.anyCase ? allowed.toLowerCase() === value.toLowerCase() : allowed === value)
      return declaration.values?.some(same) ? undefined : `expected one of ${declaration.values?.join(", ")}, got "${text}"`
    }
    case "list": {
      const unknown = value.split(",").map((item) => item.trim()).filter((item) => declaration.values !== undefined && !declaration.values.includes(item))
      return unknown.length === 0 ? undefined : `expected a comma-separated list of ${declaration.values?.join(", ")}, got "${unknown.join(", ")}"`
    }
    case "string":
    case "secret":
      return undefined
  }
}

/**
 * The process's settings, read from the environment ONCE and checked as a whole against their
 * declarations (Settings.ts): either every problem, one per variable, or the values of the declared
 * variables that are set. Nothing else of the environment is kept, so a variable nobody declared can
 * never change the app's behaviour, and a variable changed later in the process's life is not seen.
 */
export const readSettings = (
  env: Readonly<Record<string, string | undefined>>,
): Either.Either<ReadonlyMap<SettingName, string>, ReadonlyArray<string>> => {
  const values = new Map<SettingName, string>()
  const problems: Array<string> = []
  for (const [name, declaration] of Object.entries(settings) as Array<[SettingName, SettingDeclaration]>) {
    const text = env[name]
    if (text === undefined || text === "") continue
    const problem = settingProblem(declaration, text)
    if (problem === undefined) values.set(name, text)
    else problems.push(`${name}: ${problem}`)
  }
  return problems.length > 0 ? Either.left(problems) : Either.right(values)
}

/** Every reader of the process (each `Config.*`) gets its value from the snapshot, not from the environment. */
export const settingsLayer = (values: ReadonlyMap<SettingName, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(values)))
