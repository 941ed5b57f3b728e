/** What a site form holds: the values as typed, so a refused form keeps them. */
export interface SiteFormValues {
  readonly code?: string | undefined
  readonly name?: string | undefined
  readonly country?: string | undefined
  readonly limit?: string | undefined
  readonly period?: string | undefined
}

/** Create (on /sites) or change (on a site's page) a site; posted as a form, answered with the page. */
export const SiteForm = (props: { readonly action: string; readonly id: string; readonly submit: string; readonly values: SiteFormValues; readonly error?: string | undefined }) => (
  <form method="post" action={props.action} id={props.id} class="site-form">
    {!!props.error && (
      <p class="alert error" role="alert" id={`${props.id}-error`} safe>
        {props.error}
      </p>
    )}
    <label>
      Code (as upload files name the site)
      <input type="text" name="code" required maxlength="64" value={props.values.code ?? ""} />
    </label>
    <label>
      Name
      <input type="text" name="name" required maxlength="200" value={props.values.name ?? ""} />
    </label>
    <label>
      Country (ISO code, e.g. GB)
      <input type="text" name="country" required maxlength="2" value={props.values.country ?? ""} />
    </label>
    <label>
      Emission limit, kg CO2e (empty for none)
      <input type="text" name="emission_limit_kg_co2e" inputmode="decimal" value={props.values.limit ?? ""} />
    </label>
    <label for={`${props.id}-period`}>Limit period</label>
    <select name="limit_period" id={`${props.id}-period`}>
      <option value="month" selected={props.values.period !== "year"}>
        calendar month
      </option>
      <option value="year" selected={props.values.period === "year"}>
        calendar year
      </option>
    </select>
    <button type="submit" safe>
      {props.submit}
    </button>
  </form>
)
