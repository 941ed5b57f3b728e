import type { CatalogueFactor } from "@scopeline/catalogue/EmissionFactor"
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { AIRLINES, BRANDS, NEUTRAL_PHRASES, TRAIN_OPERATORS, VEHICLE_MAKES } from "@scopeline/matcher/ranking/brands"
import { DOUBT_CAP } from "@scopeline/matcher/ranking/calibration"
import { Ranker, type MatchOutcome } from "@scopeline/matcher/ranking/Ranker"
import { tokenise } from "@scopeline/matcher/ranking/text"
import { beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"

/**
 * The matcher's classes of error, each over several phrasings: a rule that only fixed one string fails
 * here on the others. Expectations name the kind of factor (its category path), not a row id, so a
 * test fails for the wrong kind of answer, not for a defensible sibling.
 */

let catalogue: ReadonlyArray<CatalogueFactor>
let ranker: Ranker
beforeAll(async () => {
  catalogue = await Effect.runPromise(readCatalogue())
  ranker = new Ranker(catalogue)
})

const match = (description: string, unit: string, geography = "GB") => ranker.match({ description, unit, geography })

const matched = (outcome: MatchOutcome) => {
  if (outcome._tag !== "Matched") throw new Error(`no match: ${outcome.reason}`)
  return outcome
}

/** The factor's name, for readable failures: "Material use: Paper: Paper and board: paper: Primary …". */
const nameOf = (description: string, unit: string, geography?: string) => matched(match(description, unit, geography)).factor.name

describe("purchase vs disposal", () => {
  const MATERIALS = [
    ["office paper", "Paper and board: paper"],
    ["cardboard boxes", "Paper and board: board"],
    ["glass bottles", "Glass"],
    ["aluminium cans", "aluminium cans"],
    ["PET bottles", "Plastics: PET"],
    ["timber", "Wood"],
    ["plasterboard", "Plasterboard"],
    ["concrete", "Concrete"],
  ] as const
  const PURCHASES = ["Purchased {m}", "{m} bought for the shop", "{m} procured - Q2", "{m} used in production", "{m} supplied to site"]
  const DISPOSALS = ["{m} disposal - landfill", "{m} collection for recycling", "{m} sent to landfill", "{m} waste - recycled"]

  for (const [material, row] of MATERIALS) {
    test(`buying ${material} is material use, for every way of saying so`, () => {
      for (const phrasing of PURCHASES) {
        const name = nameOf(phrasing.replace("{m}", material), "tonnes")
        expect(name.startsWith("Material use:"), `${phrasing} → ${name}`).toBe(true)
        expect(name, phrasing).toContain(row)
      }
    })
    test(`throwing ${material} away is waste disposal, by its route`, () => {
      for (const phrasing of DISPOSALS) {
        const description = phrasing.replace("{m}", material)
        const name = nameOf(description, "tonnes")
        expect(name.startsWith("Waste disposal:"), `${description} → ${name}`).toBe(true)
        expect(name, description).toContain(row)
        expect(name.endsWith("Landfill"), description).toBe(/landfill/.test(description))
      }
    })
  }

  test("recycled content that is bought is material use from a closed-loop source", () => {
    for (const description of ["HDPE with recycled content purchased", "Recycled content HDPE used in moulding"]) {
      expect(nameOf(description, "tonnes"), description).toBe("Material use: Plastic: Plastics: HDPE (incl. forming): Closed-loop source")
    }
  })
})

describe("sizes and thresholds written with symbols and units", () => {
  const CASES: ReadonlyArray<readonly [string, string, string]> = [
    ["Haulier - 44t artic", "tonne.km", "Articulated (>33t)"],
    ["Articulated HGV >33t", "tonne.km", "Articulated (>33t)"],
    ["Artic lorry over 33 tonnes", "tonne.km", "Articulated (>33t)"],
    ["Artic up to 33 tonnes", "tonne.km", "Articulated (>3.5 - 33t)"],
    ["Artic 3.5-33t", "tonne.km", "Articulated (>3.5 - 33t)"],
    ["Rigid HGV 7.5–17 t", "tonne.km", "Rigid (>7.5 tonnes-17 tonnes)"],
    ["12 tonne rigid", "tonne.km", "Rigid (>7.5 tonnes-17 tonnes)"],
    ["Rigid lorry over 17 tonnes", "tonne.km", "Rigid (>17 tonnes)"],
    ["26t rigid", "tonne.km", "Rigid (>17 tonnes)"],
    ["7.5t rigid", "tonne.km", "Rigid (>3.5 - 7.5 tonnes)"],
    ["Rigid >3.5-7.5 t", "tonne.km", "Rigid (>3.5 - 7.5 tonnes)"],
    ["Courier van up to 3.5 tonnes", "tonne.km", "Average (up to 3.5 tonnes)"],
    ["Van 1.305-1.74 tonnes", "tonne.km", "Class II (1.305 to 1.74 tonnes)"],
    ["Van up to 1.305t", "tonne.km", "Class I (up to 1.305 tonnes)"],
    ["Container ship 1000-1999 TEU", "tonne.km", "Container ship: 1000–1999 TEU"],
    ["Container vessel 8000+ TEU", "tonne.km", "Container ship: 8000+ TEU"],
    ["Feeder container ship <1000 TEU", "tonne.km", "Container ship: 0–999 TEU"],
    ["Bulk carrier 200,000+ dwt", "tonne.km", "Bulk carrier: 200,000+ dwt"],
    ["Bulk carrier 35,000–59,999 dwt", "tonne.km", "Bulk carrier: 35,000–59,999 dwt"],
    ["Crude tanker 60,000-79,999 dwt", "tonne.km", "Crude tanker: 60,000–79,999 dwt"],
  ]
  for (const [description, unit, band] of CASES) {
    test(`"${description}" lands in the band "${band}"`, () => {
      expect(nameOf(description, unit)).toContain(band)
    })
  }

  test("a stated size that fits two bands is never a confident answer", () => {
    for (const description of ["3.5t van - diesel", "Delivery van 3.5 tonnes, diesel"]) {
      const outcome = matched(match(description, "km"))
      expect(outcome.confidence, description).toBeLessThan(0.8)
    }
  })
})

describe("supplier, operator and brand names are evidence, not words to match", () => {
  test("a train operator is national rail, never the Underground", () => {
    for (const description of [
      "Avanti West Coast - Euston to Manchester",
      "LNER York to London",
      "GWR Paddington - Bristol",
      "ScotRail Glasgow to Edinburgh",
      "Northern Rail - Leeds",
      "Thameslink to Gatwick",
      "Train LDN-MAN return",
    ]) {
      expect(nameOf(description, "passenger.km"), description).toBe("Business travel- land: Rail: National rail")
    }
  })
  test("an airline makes the line a flight", () => {
    for (const description of ["British Airways - Heathrow to Edinburgh", "easyJet Gatwick to Belfast", "Loganair Glasgow-Aberdeen"]) {
      expect(nameOf(description, "passenger.km"), description).toContain("Flights: Domestic, to/from UK")
    }
  })
  test("a hotel chain is a hotel night", () => {
    for (const description of ["Travelodge Manchester", "Premier Inn Leeds City", "Hilton Birmingham - conference"]) {
      expect(nameOf(description, "nights"), description).toBe("Hotel stay: UK")
    }
  })
  test("an electricity supplier with an energy unit is grid electricity", () => {
    for (const description of ["Octopus Energy - depot", "Scottish Power - store 12", "E.ON Next business"]) {
      expect(nameOf(description, "kWh"), description).toContain("Electricity")
    }
    expect(nameOf("Duke Energy - Charlotte plant", "kWh", "US")).toContain("United States")
  })
  test("a water company is mains water, its sewerage charges water treatment", () => {
    for (const company of ["Thames Water", "Severn Trent", "Anglian Water"]) {
      expect(nameOf(`${company} - supply`, "m3"), company).toBe("Water supply")
      expect(nameOf(`${company} - sewerage`, "m3"), company).toBe("Water treatment")
    }
  })
  test("a fuel card or fuel distributor says nothing about the fuel", () => {
    expect(nameOf("Allstar fuel card - diesel", "litres")).toBe("Fuels: Liquid fuels: Diesel (average biofuel blend)")
    expect(nameOf("Keyfuels card - unleaded", "litres")).toBe("Fuels: Liquid fuels: Petrol (average biofuel blend)")
    expect(nameOf("Crown Oil - red diesel for plant", "litres")).toBe("Fuels: Liquid fuels: Gas oil")
    expect(nameOf("Certas Energy - kerosene", "litres")).toBe("Fuels: Liquid fuels: Burning oil")
  })
  test("a courier or a shipping line decides the freight mode", () => {
    for (const description of ["DPD parcels", "Royal Mail parcels", "Evri deliveries"]) {
      expect(nameOf(description, "tonne.km"), description).toStartWith("Freighting goods: Vans")
    }
    for (const description of ["Maersk - Shanghai to Felixstowe", "MSC ocean freight", "CMA CGM shipment"]) {
      expect(nameOf(description, "tonne.km"), description).toContain("Container ship")
    }
  })
  test("no brand or neutral name occurs in a factor name, so none can be matched as a word", () => {
    const factorTokens = new Set(catalogue.flatMap((f) => tokenise(f.name)))
    const names = [...BRANDS.flatMap((b) => b.phrases), ...NEUTRAL_PHRASES, ...AIRLINES, ...TRAIN_OPERATORS, ...VEHICLE_MAKES]
    const clashes = names.filter((name) => {
      const words = name.split(" ")
      return words.length === 1 && factorTokens.has(words[0]!)
    })
    expect(clashes).toEqual([])
  })
})

describe("what a phrase means in this domain", () => {
  test('"gas supply" is natural gas', () => {
    for (const description of ["Gas supply - HQ", "Gas supply invoice - depot", "Mains gas supply"]) {
      expect(nameOf(description, "kWh"), description).toBe("Fuels: Gaseous fuels: Natural gas")
    }
  })
  test('"air freight" is freight flights', () => {
    for (const description of ["Air freight - Hong Kong to Heathrow", "Airfreight LHR-JFK", "Air cargo to Dubai"]) {
      expect(nameOf(description, "tonne.km"), description).toStartWith("Freighting goods: Freight flights")
    }
  })
  test('"business trip" is no business-class cabin; "biz" and "business class" are', () => {
    for (const description of ["Flight LHR-JFK - business trip", "Flights for business travel, LHR to JFK", "LHR-JFK flight, business meeting"]) {
      expect(nameOf(description, "passenger.km"), description).toContain("Long-haul, to/from UK: Average passenger")
    }
    for (const description of ["Flight LHR-JFK business class", "LHR-JFK flights, biz", "Flight LHR-JFK (business)"]) {
      expect(nameOf(description, "passenger.km"), description).toContain("Long-haul, to/from UK: Business class")
    }
  })
  test('"motorcycle" is a motorbike', () => {
    for (const description of ["Motorcycle - staff journeys", "Staff motorbike mileage", "Moped deliveries - own fleet"]) {
      expect(nameOf(description, "km"), description).toContain("Motorbike")
    }
  })
  test('"red diesel" is gas oil, "unleaded" is petrol', () => {
    for (const description of ["Red diesel - generators", "Red diesel for forklifts"]) {
      expect(nameOf(description, "litres"), description).toBe("Fuels: Liquid fuels: Gas oil")
    }
    for (const description of ["Unleaded - pool cars", "Unleaded petrol - mowers", "ULP fuel"]) {
      expect(nameOf(description, "litres"), description).toBe("Fuels: Liquid fuels: Petrol (average biofuel blend)")
    }
  })
})

describe("a description that names no activity the catalogue covers", () => {
  const CASES: ReadonlyArray<readonly [string, string]> = [
    ["Consultancy fees", "items"],
    ["Software licences - annual", "items"],
    ["Insurance premium", "items"],
    ["Bottled water purchases", "litres"],
    ["Mineral water for meetings", "litres"],
    ["Nitrogen cylinders - lab", "kg"],
    ["Uniform laundering service", "kg"],
    ["Legal fees", "items"],
  ]
  for (const [description, unit] of CASES) {
    test(`"${description}" fails with a reason, not a guess`, () => {
      const outcome = match(description, unit)
      expect(outcome._tag, outcome._tag === "Matched" ? outcome.factor.name : "").toBe("NoMatch")
      expect(outcome.reason.length).toBeGreaterThan(10)
    })
  }
})

describe("confidence", () => {
  test("a line with a word the matcher does not understand stays below the review threshold, and says why", () => {
    for (const description of ["Electricity - zorblax facility", "Diesel - quux tanks", "Hotel wibble nights"]) {
      const unit = description.startsWith("Hotel") ? "nights" : description.startsWith("Diesel") ? "litres" : "kWh"
      const outcome = matched(match(description, unit))
      expect(outcome.confidence, description).toBeLessThanOrEqual(DOUBT_CAP)
      expect(outcome.reason, description).toContain("not understood")
    }
  })
  test("a waste line that names no route is not confident", () => {
    for (const description of ["Cardboard waste", "Food waste collection", "Glass waste"]) {
      expect(matched(match(description, "tonnes")).confidence, description).toBeLessThan(0.8)
    }
  })
  test("a line the matcher understands fully is confident", () => {
    for (const [description, unit] of [["Octopus Energy electricity", "kWh"], ["Red diesel - generators", "litres"], ["R404A top-up", "kg"]] as const) {
      expect(matched(match(description, unit)).confidence, description).toBeGreaterThanOrEqual(0.9)
    }
  })
})
