import { formatEmissions } from "@scopeline/ui/format"

/** A percentage for people: one decimal, `—` without a limit. */
export const percentText = (percent: number | null): string => (percent === null ? "—" : `${percent.toFixed(1)}%`)

export const statusText = {
  no_limit: "No limit",
  within: "Within limit",
  warning: "Above 80% of limit",
  exceeded: "Limit exceeded",
} as const

/**
 * A site's total against its limit as one horizontal bar, server-rendered SVG (no script, no inline
 * style: the CSP forbids both). The scale runs to 120% of the limit so an overshoot stays visible;
 * dashed marks stand at 80% and 100%. An image with a text alternative: the same figures are in the
 * table next to it.
 */
export const LimitBar = (props: {
  readonly id: string
  readonly label: string
  readonly totalKg: string
  readonly limitKg: string | null
  readonly percent: number | null
  readonly status: keyof typeof statusText
}) => {
  const width = 720
  const height = 28
  const scale = 120
  const filled = props.percent === null ? 0 : (Math.min(props.percent, scale) / scale) * width
  const mark = (percent: number) => ((percent / scale) * width).toFixed(2)
  const description =
    props.limitKg === null
      ? `${formatEmissions(props.totalKg)} this period; no limit set`
      : `${formatEmissions(props.totalKg)} of a ${formatEmissions(props.limitKg)} limit (${percentText(props.percent)}): ${statusText[props.status]}`
  return (
    <svg class="chart limit-bar" id={props.id} viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`}>
      <title id={`${props.id}-title`} safe>
        {props.label}
      </title>
      <desc id={`${props.id}-desc`} safe>
        {description}
      </desc>
      <rect class="chart-empty" x="0" y="0" width={width} height={height} />
      {props.limitKg === null ? null : (
        <>
          <rect class={`limit-${props.status}`} x="0" y="0" width={filled.toFixed(2)} height={height} />
          <line class="limit-mark" x1={mark(80)} y1="0" x2={mark(80)} y2={height} />
          <line class="limit-mark" x1={mark(100)} y1="0" x2={mark(100)} y2={height} />
        </>
      )}
    </svg>
  )
}
