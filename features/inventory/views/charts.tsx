import { formatEmissions } from "@scopeline/ui/format"

/**
 * Server-rendered SVG charts: no client code, no inline style (the CSP forbids it), colours from
 * classes in the shared stylesheet so the dark theme applies. Each chart is an image with a text
 * alternative; the numbers themselves are in the table the page puts next to it.
 */

export const kgText = (kg: number): string => formatEmissions(kg.toFixed(3))

export interface Segment {
  readonly label: string
  readonly kg: number
  /** A CSS class giving the segment its colour (`series-1` … `series-6`). */
  readonly series: string
}

const positive = (kg: number) => (kg > 0 ? kg : 0)

/** One horizontal bar split into segments in proportion: a scope split, a gas split. */
export const StackedBar = (props: { readonly id: string; readonly title: string; readonly segments: ReadonlyArray<Segment> }) => {
  const width = 720
  const height = 36
  const total = props.segments.reduce((sum, segment) => sum + positive(segment.kg), 0)
  let x = 0
  const description = props.segments.map((segment) => `${segment.label}: ${kgText(segment.kg)}`).join("; ")
  return (
    <svg
      class="chart"
      id={props.id}
      viewBox={`0 0 ${width} ${height + 24}`}
      role="img"
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
    >
      <title id={`${props.id}-title`} safe>
        {props.title}
      </title>
      <desc id={`${props.id}-desc`} safe>
        {description}
      </desc>
      {total === 0 ? (
        <rect class="chart-empty" x="0" y="0" width={width} height={height} />
      ) : (
        props.segments.map((segment) => {
          const w = (positive(segment.kg) / total) * width
          const rect = <rect class={segment.series} x={x.toFixed(2)} y="0" width={w.toFixed(2)} height={height} />
          x += w
          return rect
        })
      )}
      {legendPositions(props.segments.filter((segment) => positive(segment.kg) > 0)).map(({ segment, x: at }) => (
        <g>
          <rect class={segment.series} x={at} y={height + 8} width="10" height="10" />
          <text class="chart-label" x={at + 14} y={height + 17} safe>
            {segment.label}
          </text>
        </g>
      ))}
    </svg>
  )
}

/** Where each legend entry starts. Label widths are estimated at 7 px a character: SVG text cannot be measured on the server. */
const legendPositions = <S extends { readonly label: string }>(segments: ReadonlyArray<S>) => {
  let x = 0
  return segments.map((segment) => {
    const at = x
    x += 14 + segment.label.length * 7 + 16
    return { segment, x: at }
  })
}

/** Horizontal bars, one per line, longest first as given: the top categories. */
export const BarList = (props: {
  readonly id: string
  readonly title: string
  readonly bars: ReadonlyArray<{ readonly label: string; readonly kg: number }>
}) => {
  const width = 720
  const row = 26
  const labelWidth = 220
  const max = Math.max(0, ...props.bars.map((bar) => positive(bar.kg)))
  const height = Math.max(row, props.bars.length * row)
  return (
    <svg class="chart" id={props.id} viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`}>
      <title id={`${props.id}-title`} safe>
        {props.title}
      </title>
      <desc id={`${props.id}-desc`} safe>
        {props.bars.map((bar) => `${bar.label}: ${kgText(bar.kg)}`).join("; ")}
      </desc>
      {props.bars.map((bar, i) => {
        const w = max === 0 ? 0 : (positive(bar.kg) / max) * (width - labelWidth - 120)
        const label = bar.label.length > 30 ? `${bar.label.slice(0, 29)}…` : bar.label
        return (
          <g>
            <text class="chart-label" x="0" y={i * row + 17} safe>
              {label}
            </text>
            <rect class="series-1" x={labelWidth} y={i * row + 4} width={w.toFixed(2)} height={row - 8} />
            <text class="chart-label" x={(labelWidth + w + 6).toFixed(2)} y={i * row + 17} safe>
              {kgText(bar.kg)}
            </text>
          </g>
        )
      })}
    </svg>
  )
}

/** Vertical bars per month, each stacked by series: the monthly totals by scope. */
export const StackedColumns = (props: {
  readonly id: string
  readonly title: string
  readonly columns: ReadonlyArray<{ readonly label: string; readonly segments: ReadonlyArray<Segment> }>
}) => {
  const width = 720
  const plot = 200
  const axis = 24
  const totals = props.columns.map((column) => column.segments.reduce((sum, segment) => sum + positive(segment.kg), 0))
  const max = Math.max(0, ...totals)
  const slot = props.columns.length === 0 ? width : width / props.columns.length
  const barWidth = Math.min(48, slot * 0.7)
  return (
    <svg
      class="chart"
      id={props.id}
      viewBox={`0 0 ${width} ${plot + axis}`}
      role="img"
      aria-labelledby={`${props.id}-title ${props.id}-desc`}
    >
      <title id={`${props.id}-title`} safe>
        {props.title}
      </title>
      <desc id={`${props.id}-desc`} safe>
        {props.columns.map((column, i) => `${column.label}: ${kgText(totals[i] ?? 0)}`).join("; ")}
      </desc>
      <line class="chart-axis" x1="0" y1={plot} x2={width} y2={plot} />
      {props.columns.map((column, i) => {
        const x = i * slot + (slot - barWidth) / 2
        let y = plot
        return (
          <g>
            {column.segments.map((segment) => {
              const h = max === 0 ? 0 : (positive(segment.kg) / max) * (plot - 8)
              y -= h
              return <rect class={segment.series} x={x.toFixed(2)} y={y.toFixed(2)} width={barWidth.toFixed(2)} height={h.toFixed(2)} />
            })}
            <text class="chart-label" x={(x + barWidth / 2).toFixed(2)} y={plot + 16} text-anchor="middle" safe>
              {column.label}
            </text>
          </g>
        )
      })}
    </svg>
  )
}
