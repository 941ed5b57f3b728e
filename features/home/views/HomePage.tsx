export interface Tip {
  readonly title: string
  readonly description: string
  readonly permalink: string
}

export interface HomePageProps {
  readonly firstName: string
  readonly announcement: string
  readonly tips: ReadonlyArray<Tip>
  readonly actions: ReadonlyArray<{ readonly href: string; readonly label: string; readonly description: string }>
}

export const HomePage = (props: HomePageProps) => (
  <>
    <h1>
      Welcome, <span safe>{props.firstName}</span>
    </h1>
    <p class="announcement" id="announcement" safe>
      {props.announcement}
    </p>
    {props.actions.some((action) => action.href === "/dashboard") && (
      <a class="card action featured" id="dashboard-link" href="/dashboard">
        <strong>Your inventory</strong>
        <span>Emissions by scope, month, category and gas, with how much is calculated.</span>
      </a>
    )}
    {props.actions.length > 0 && (
      <section class="actions">
        {props.actions.map((action) => (
          <a class="card action" href={action.href}>
            <strong safe>{action.label}</strong>
            <span safe>{action.description}</span>
          </a>
        ))}
      </section>
    )}
    {props.tips.length > 0 && (
      <section id="product-tips">
        <h2>Tips</h2>
        <ul class="tips">
          {props.tips.map((tip) => (
            <li>
              <a href={tip.permalink} safe>
                {tip.title}
              </a>
              <p safe>{tip.description}</p>
            </li>
          ))}
        </ul>
      </section>
    )}
  </>
)
