import { formatCount, formatTimestamp, isoInstant, type ReaderPreferences } from "@scopeline/ui/format"

export interface QueueDepthView {
  readonly name: string
  readonly visible: number
  readonly inFlight: number
  readonly deadLetters: number
}

export interface DeadLetterView {
  readonly id: string
  readonly queue: string
  readonly body: string
  readonly receiveCount: number
  readonly lastError: string | null
  readonly deadAt: Date
}

export interface HealthView {
  readonly database: boolean
  readonly version: string
}

export interface OpsPageProps {
  readonly health: HealthView
  readonly queues: ReadonlyArray<QueueDepthView>
  readonly deadLetters: ReadonlyArray<DeadLetterView>
  readonly notice?: string
  readonly reader: ReaderPreferences
}

/** The dead letters alone: what a replay swaps back in. */
export const DeadLetters = (props: {
  readonly deadLetters: ReadonlyArray<DeadLetterView>
  readonly notice?: string
  readonly reader: ReaderPreferences
}) => (
  <section id="dead-letters">
    <h2>Dead letters in the job queues</h2>
    {/* Always present, and morphed rather than replaced on a replay: a screen reader announces a
        live region whose text changes, not one that arrives already filled. */}
    <p id="ops-notice" class={props.notice ? "alert notice" : ""} role="status" aria-live="polite" safe>
      {props.notice ?? ""}
    </p>
    {props.deadLetters.length === 0 ? (
      <p class="muted" id="no-dead-letters">
        No dead letters: every job in the queues was handled.
      </p>
    ) : (
      <table class="dead-letters">
        <thead>
          <tr>
            <th>Queue</th>
            <th>Id</th>
            <th>Dead since</th>
            <th class="num">Receives</th>
            <th>Last error</th>
            <th>Message</th>
            <th>Action</th>
          </tr>
        </thead>
        <tbody>
          {props.deadLetters.map((letter) => (
            <tr data-dead-letter={`${letter.queue}/${letter.id}`}>
              <td safe>{letter.queue}</td>
              <td safe>{letter.id}</td>
              <td>
                <time datetime={isoInstant(letter.deadAt)} safe>
                  {formatTimestamp(letter.deadAt, props.reader, { seconds: true })}
                </time>
              </td>
              <td class="num" safe>
                {formatCount(letter.receiveCount)}
              </td>
              <td class="failure" safe>
                {letter.lastError ?? "—"}
              </td>
              <td>
                <code class="body" safe>
                  {letter.body}
                </code>
              </td>
              <td>
                {/* The CSRF header comes from `hx-headers:inherited` on <body>. */}
                <button
                  type="button"
                  class="replay"
                  hx-post={`/ops/dead-letters/${encodeURIComponent(letter.queue)}/${encodeURIComponent(letter.id)}/replay`}
                  hx-target="#dead-letters"
                  hx-swap="outerMorph"
                  aria-label={`Replay ${letter.queue} message ${letter.id}`}
                >
                  Replay
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)

export const OpsPage = (props: OpsPageProps) => (
  <>
    <h1>Operations</h1>
    <section id="health">
      <h2>Health</h2>
      <p>
        Database:{" "}
        <span class={`status ${props.health.database ? "calculated" : "failed"}`} id="health-database">
          {props.health.database ? "reachable" : "unreachable"}
        </span>{" "}
        · Version <code safe>{props.health.version}</code>
      </p>
    </section>
    <section id="queues">
      <h2>Queues</h2>
      <table>
        <thead>
          <tr>
            <th>Queue</th>
            <th class="num">Waiting</th>
            <th class="num">In flight</th>
            <th class="num">Dead letters</th>
          </tr>
        </thead>
        <tbody>
          {props.queues.map((queue) => (
            <tr data-queue={queue.name}>
              <td safe>{queue.name}</td>
              <td class="num" safe>
                {formatCount(queue.visible)}
              </td>
              <td class="num" safe>
                {formatCount(queue.inFlight)}
              </td>
              <td class="num" safe>
                {formatCount(queue.deadLetters)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
    <DeadLetters deadLetters={props.deadLetters} notice={props.notice} reader={props.reader} />
  </>
)
