import { Context, Effect, FiberRef, Option } from "effect"

/**
 * The correlation id of the work in progress: the HTTP request's (see respond.ts), or the upload's
 * for its queue jobs. The audit log stamps it on every event, so one upload's story (request,
 * notify, parse, match) reads back by one id.
 */
export const CurrentCorrelationId = FiberRef.unsafeMake<Option.Option<string>>(Option.none())

/** Runs `effect` under `correlationId`: its log lines and audit events carry it. */
export const withCorrelation =
  (correlationId: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(Effect.locally(CurrentCorrelationId, Option.some(correlationId)), Effect.annotateLogs({ correlationId }))

/** Which process is running: each app's composition names itself ("server", "worker"). */
export class ServiceName extends Context.Reference<ServiceName>()("scopeline/ServiceName", {
  defaultValue: () => "server",
}) {}
