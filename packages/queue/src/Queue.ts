import { Context, Data, type Effect } from "effect"

/** The pipeline's queues. Names are logical; each implementation maps them to its own resources. */
export type QueueName = "parse" | "match" | "export"

export interface ReceivedMessage {
  readonly id: string
  /** Opaque handle for ack / extendVisibility of this delivery (SQS receipt handle, or a lease token). */
  readonly receipt: string
  /** JSON text as sent; consumers decode it with a Schema. */
  readonly body: string
  /** 1 on the first delivery; a message is dead-lettered once this would exceed maxReceives. */
  readonly receiveCount: number
}

export interface ReceiveOptions {
  readonly maxMessages: number
  readonly waitSeconds: number
  readonly visibilityTimeoutSeconds: number
}

export interface DeadLetter {
  readonly id: string
  readonly queue: QueueName
  readonly body: string
  readonly receiveCount: number
  readonly lastError: string | null
  readonly deadAt: Date
}

export class QueueError extends Data.TaggedError("QueueError")<{
  readonly operation: string
  readonly queue: QueueName
  readonly cause: unknown
}> {}

/**
 * At-least-once delivery with a visibility timeout: a received message is invisible to others until
 * acked or until the timeout passes, then redelivered with receiveCount + 1; after `maxReceives`
 * deliveries it moves to the queue's dead-letter store instead. The PostgreSQL implementation
 * (embedded mode) and SQS (AWS mode) keep exactly these semantics.
 */
export class Queue extends Context.Tag("scopeline/Queue")<
  Queue,
  {
    readonly send: (queue: QueueName, body: string) => Effect.Effect<void, QueueError>
    readonly receive: (queue: QueueName, options: ReceiveOptions) => Effect.Effect<ReadonlyArray<ReceivedMessage>, QueueError>
    readonly ack: (queue: QueueName, receipt: string) => Effect.Effect<void, QueueError>
    readonly extendVisibility: (queue: QueueName, receipt: string, seconds: number) => Effect.Effect<void, QueueError>
    /**
     * The handler failed: the message becomes visible again after `retryInSeconds` (its backoff).
     * Stores implementations that can keep the error show it with the dead letter.
     */
    readonly fail: (queue: QueueName, receipt: string, error: string, retryInSeconds: number) => Effect.Effect<void, QueueError>
    /** Messages currently waiting (visible or in flight), for the ops page and autoscaling. */
    /**
     * Messages waiting, in flight and dead-lettered: counts only, read without receiving anything (on
     * SQS, receiving a dead letter to count it would hide it from a concurrent listing and raise its
     * receive count).
     */
    readonly depth: (
      queue: QueueName,
    ) => Effect.Effect<{ readonly visible: number; readonly inFlight: number; readonly deadLetters: number }, QueueError>
    readonly deadLetters: (queue: QueueName) => Effect.Effect<ReadonlyArray<DeadLetter>, QueueError>
    /**
     * Sends a dead letter's body back to its queue (receive count reset) and removes it from the dead
     * letters. Answers the body sent (what the replay's audit event names), or undefined when there
     * is no such dead letter.
     */
    readonly replay: (queue: QueueName, deadLetterId: string) => Effect.Effect<string | undefined, QueueError>
  }
>() {}
