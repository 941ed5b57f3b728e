/**
 * Elysia with one trivial JSON route and nothing else: the ceiling that `bench/api-load.ts` holds
 * the real API against (same machine, same load generator, same run).
 */
import { Elysia } from "elysia"

const port = Number(process.env.PORT ?? 0)
new Elysia().get("/hello", () => ({ hello: "world" })).listen({ port, hostname: "127.0.0.1" })
