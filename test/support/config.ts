import { ConfigProvider, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Settings for an app under test: hermetic (no process env), with a private DATA_DIR. */
export const testSettings = (overrides: Record<string, string> = {}): Record<string, string> => ({
  DATA_DIR: mkdtempSync(join(tmpdir(), "scopeline-data-")),
  JWT_SECRET: "test-secret-that-is-long-enough-for-hs256-0123456789",
  LOG_LEVEL: "Warn",
  // Tests that need factors load the catalogue themselves; the rest start faster without it.
  LOAD_CATALOGUE: "false",
  ...overrides,
})

export const configLayer = (settings: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(settings))))
