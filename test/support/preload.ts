import { afterAll } from "bun:test"
import { stopTestCluster } from "./postgres.ts"

// Runs once after every test file: the shared PostgreSQL cluster stops and its temp dir is deleted.
afterAll(async () => {
  await stopTestCluster()
})
