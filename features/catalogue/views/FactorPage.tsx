import { formatFactorValue } from "@scopeline/ui/format"

export interface FactorView {
  readonly id: string
  readonly ref: string
  readonly name: string
  readonly activityType: string
  readonly categoryPath: ReadonlyArray<string>
  readonly scope: string | null
  readonly unit: string
  readonly dimension: string | null
  readonly value: string
  readonly factorUnit: string
  readonly ghgUnit: string
  readonly geography: string
  readonly isPrimary: boolean
  readonly source: string
  readonly sourceId: string
  readonly year: number
  readonly factorSet: string
  readonly publication: string | null
  readonly sourceFile: string | null
  readonly licence: string | null
  readonly attribution: string | null
}

const Field = (props: { readonly label: string; readonly value: string | null; readonly id?: string }) => (
  <>
    <dt safe>{props.label}</dt>
    <dd id={props.id} safe>
      {props.value ?? "—"}
    </dd>
  </>
)

/** One factor with its full provenance: enough to find the row in the publication it came from. */
export const FactorPage = (props: { readonly factor: FactorView }) => {
  const f = props.factor
  return (
    <article class="card" id="factor">
      <p class="muted">
        <a href="/catalogue">← Catalogue</a>
      </p>
      <h1 safe>{f.name}</h1>
      <p class="factor-value">
        <strong id="factor-value" safe>
          {formatFactorValue(f.value)}
        </strong> <span safe>{`${f.factorUnit} per ${f.unit}`}</span>
      </p>
      <h2>Classification</h2>
      <dl class="facts">
        <Field label="Category" value={f.categoryPath.join(" › ") || null} id="factor-category" />
        <Field label="Activity type" value={f.activityType} />
        <Field label="Scope" value={f.scope} id="factor-scope" />
        <Field label="Unit" value={f.unit} />
        <Field label="Dimension" value={f.dimension} />
        <Field label="Geography" value={f.geography} />
        <Field label="Greenhouse gases" value={f.ghgUnit} />
        <Field label="Primary factor" value={f.isPrimary ? "yes" : "no (well-to-tank or a single gas)"} />
      </dl>
      <h2>Provenance</h2>
      <dl class="facts" id="provenance">
        <Field label="Source" value={f.source} id="factor-source" />
        <Field label="Publication" value={f.publication} id="factor-publication" />
        <Field label="Year" value={String(f.year)} />
        <Field label="Factor set" value={f.factorSet} id="factor-set" />
        <Field label="Row in the publication" value={f.sourceId} id="factor-source-id" />
        <Field label="File" value={f.sourceFile} />
        <Field label="Reference" value={f.ref} id="factor-ref" />
        <Field label="Licence" value={f.licence} id="factor-licence" />
      </dl>
      {!!f.attribution && (
        <blockquote class="attribution" id="factor-attribution" safe>
          {f.attribution}
        </blockquote>
      )}
    </article>
  )
}
