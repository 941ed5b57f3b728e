import { formatCount, formatFactorValue } from "@scopeline/ui/format"
import { Pager } from "@scopeline/ui/Pager"
export interface FactorRowView {
  readonly id: string
  readonly name: string
  readonly scope: string | null
  readonly unit: string
  readonly value: string
  readonly factorUnit: string
  readonly geography: string
  readonly source: string
  readonly year: number
}

export interface CatalogueSearch {
  readonly q: string
  readonly scope: string
  readonly unit: string
  readonly geography: string
  /** One set to search, or "" for the current ones. */
  readonly factorSet: string
}

export interface FactorSetView {
  readonly id: string
  readonly source: string
  readonly year: number
  readonly factorCount: number
  readonly current: boolean
}

export interface CataloguePageProps {
  readonly search: CatalogueSearch
  readonly sets: ReadonlyArray<FactorSetView>
  readonly rows: ReadonlyArray<FactorRowView>
  readonly total: number
  readonly offset: number
  readonly previousHref: string | null
  readonly nextHref: string | null
}

export const CatalogueResults = (props: CataloguePageProps) => (
  <section id="catalogue-results">
    <p class="muted" safe>
      {props.total === 0
        ? "No factors match."
        : `${formatCount(props.offset + 1)}–${formatCount(props.offset + props.rows.length)} of ${formatCount(props.total)} factors`}
    </p>
    {props.rows.length > 0 && (
      <table class="factors">
        <thead>
          <tr>
            <th>Factor</th>
            <th>Scope</th>
            <th>Unit</th>
            <th class="num">kg CO2e per unit</th>
            <th>Geography</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              <td>
                <a href={`/catalogue/${row.id}`} safe>
                  {row.name}
                </a>
              </td>
              <td safe>{row.scope ?? ""}</td>
              <td safe>{row.unit}</td>
              <td class="num" safe>
                {formatFactorValue(row.value)}
              </td>
              <td safe>{row.geography}</td>
              <td safe>{`${row.source} ${row.year}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <Pager previousHref={props.previousHref} nextHref={props.nextHref} />
  </section>
)

export const CataloguePage = (props: CataloguePageProps) => (
  <>
    <h1>Emission factor catalogue</h1>
    <form
      id="catalogue-search"
      class="filters"
      action="/catalogue"
      method="get"
      hx-get="/catalogue"
      hx-target="#catalogue-results"
      hx-swap="outerHTML"
      hx-push-url="true"
    >
      <label>
        Search
        <input type="search" name="q" maxlength="200" value={props.search.q} placeholder="diesel, electricity, hotel…" />
      </label>
      <label>
        Scope
        <input type="text" name="scope" maxlength="200" value={props.search.scope} placeholder="Scope 1" />
      </label>
      <label>
        Unit
        <input type="text" name="unit" maxlength="200" value={props.search.unit} placeholder="litres" />
      </label>
      <label>
        Geography
        <input type="text" name="geography" maxlength="200" value={props.search.geography} placeholder="GB" />
      </label>
      <label for="catalogue-factor-set">Factor set</label>
      <select name="factor_set" id="catalogue-factor-set">
        <option value="" selected={props.search.factorSet === ""}>
          current sets
        </option>
        {props.sets.map((set) => (
          <option value={set.id} selected={props.search.factorSet === set.id} safe>
            {set.id}
          </option>
        ))}
      </select>
      <button type="submit">Search</button>
    </form>
    <CatalogueResults {...props} />
    <FactorSets sets={props.sets} />
  </>
)

/** The sets side by side; a newer edition of a source makes the older one no longer current. */
const FactorSets = (props: { readonly sets: ReadonlyArray<FactorSetView> }) => (
  <section id="factor-sets" aria-labelledby="factor-sets-heading">
    <h2 id="factor-sets-heading">Factor sets</h2>
    <p class="muted">
      Each source's publication years, side by side. Search shows the current sets unless you pick one;{" "}
      <a href="/recalculations">recalculations</a> restate activities on another set.
    </p>
    {props.sets.length === 0 ? (
      <p class="muted">The catalogue is empty.</p>
    ) : (
      <table id="factor-sets-table">
        <caption>Factor sets in the catalogue</caption>
        <thead>
          <tr>
            <th scope="col">Set</th>
            <th scope="col">Source</th>
            <th scope="col" class="num">
              Year
            </th>
            <th scope="col" class="num">
              Factors
            </th>
            <th scope="col">Current</th>
          </tr>
        </thead>
        <tbody>
          {props.sets.map((set) => (
            <tr data-set={set.id}>
              <td>
                <a href={`/catalogue?factor_set=${encodeURIComponent(set.id)}`} safe>
                  {set.id}
                </a>
              </td>
              <td safe>{set.source}</td>
              <td class="num" safe>
                {String(set.year)}
              </td>
              <td class="num" safe>
                {formatCount(set.factorCount)}
              </td>
              <td>{set.current ? "yes" : "no: a newer edition replaces it"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </section>
)
