import { conversionRatio, parseUnit, type Ratio } from "@scopeline/catalogue"
import { Either, Option } from "effect"

/**
 * How an activity's emissions were reached, term by term, so that an auditor can multiply them out:
 * quantity × unit conversion × factor = emissions. The conversion is the one the pricing used (the
 * unit registry's exact ratio from the activity's unit to the factor's), read again from the same
 * registry; the emissions are the stored figure.
 */
export interface Calculation {
  readonly quantity: string
  readonly unit: string
  /** Absent when the activity is already in the factor's unit. */
  readonly conversion: { readonly ratio: string; readonly from: string; readonly to: string } | null
  readonly factorValue: string
  /** What the factor gives ("kg CO2e") per what unit, as published ("kWh (Net CV)"). */
  readonly factorUnit: string
  readonly perUnit: string
  readonly emissionsKg: string
}

// Digits tried for an exact decimal of a ratio: every ratio of the registry (1,000 kWh per MWh,
// 3.785411784 L per US gallon) has one within them; one without is shown to fifteen digits.
const EXACT_DIGITS = 20n

/** The ratio as a decimal: exact when it has one, else to fifteen significant digits. */
export const ratioText = (ratio: Ratio): string => {
  for (let digits = 0n; digits <= EXACT_DIGITS; digits++) {
    const scaled = ratio.num * 10n ** digits
    if (scaled % ratio.den !== 0n) continue
    const whole = (scaled / ratio.den).toString().padStart(Number(digits) + 1, "0")
    return digits === 0n ? whole : `${whole.slice(0, -Number(digits))}.${whole.slice(-Number(digits))}`.replace(/\.?0+$/, "")
  }
  return (Number(ratio.num) / Number(ratio.den)).toPrecision(15).replace(/\.?0+$/, "")
}

/** The calculation of a calculated activity with its factor; none when a term is missing or a unit is unknown. */
export const calculationOf = (
  activity: { readonly quantity: string | null; readonly unit: string | null; readonly emissions: string | null; readonly status: string },
  factor: { readonly unit: string; readonly factorValue: string; readonly factorUnit: string },
): Option.Option<Calculation> => {
  if (activity.status !== "calculated" || activity.quantity === null || activity.unit === null || activity.emissions === null) return Option.none()
  const from = parseUnit(activity.unit)
  const to = parseUnit(factor.unit)
  if (Option.isNone(from) || Option.isNone(to)) return Option.none()
  const ratio = conversionRatio(from.value, to.value)
  if (Either.isLeft(ratio)) return Option.none()
  const same = ratio.right.num === ratio.right.den
  return Option.some({
    quantity: activity.quantity,
    unit: activity.unit,
    conversion: same ? null : { ratio: ratioText(ratio.right), from: from.value.symbol, to: to.value.symbol },
    factorValue: factor.factorValue,
    factorUnit: factor.factorUnit,
    perUnit: factor.unit,
    emissionsKg: activity.emissions,
  })
}
