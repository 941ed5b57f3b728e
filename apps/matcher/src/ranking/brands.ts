/**
 * Names of companies that tell what the activity is without being words of any factor name: an
 * airline means a flight, a train operator national rail, a hotel chain a hotel night, a shipping
 * line a container ship. They are evidence of the activity, never words to match: the tokeniser
 * puts the generic word in the name's place, so every rule that knows "train" or "hotel" applies,
 * and "Northern" in "Northern Rail" cannot pull a factor that happens to contain "northern". No name
 * here may occur in a factor name (a test guards it): "Emirates" alone is left out because the
 * hotel factor "United Arab Emirates" uses it.
 */

export interface Brand {
  readonly phrases: ReadonlyArray<string>
  /** The words the name stands for, put in its place before matching. */
  readonly as: string
}

export const AIRLINES = [
  "british airways", "easyjet", "easy jet", "ryanair", "wizz air", "wizzair", "jet2", "virgin atlantic", "lufthansa",
  "klm", "air france", "qatar airways", "etihad", "singapore airlines", "cathay pacific", "cathay", "qantas",
  "united airlines", "delta air lines", "delta airlines", "american airlines", "aer lingus", "iberia", "vueling",
  "tap air portugal", "tap portugal", "finnair", "turkish airlines", "loganair", "eastern airways", "norwegian air",
  "swiss air", "austrian airlines", "brussels airlines", "air canada", "air india", "all nippon", "japan airlines",
  "korean air", "thai airways", "malaysia airlines", "garuda", "saudia", "egyptair", "ethiopian airlines",
  "kenya airways", "south african airways", "latam", "avianca", "aeromexico", "westjet", "southwest airlines",
  "jetblue", "alaska airlines", "icelandair", "aegean", "lot polish", "pegasus airlines", "air new zealand",
  "virgin australia", "jetstar", "airasia", "air asia", "indigo airlines", "vistara", "cebu pacific", "scoot",
  "china southern", "china eastern", "air china", "eva air", "emirates airline", "sas scandinavian", "flybe",
  "blue islands", "aurigny", "eurowings", "transavia", "condor airlines", "tui airways", "air baltic", "ba",
]

/** Written as `BA0117`, `EZY8743`, `VS3`: an airline designator and a flight number. */
export const FLIGHT_NUMBER =
  /\b(?:BA|EZY|U2|FR|RK|W6|LS|VS|LH|AF|KL|EK|QR|EY|SQ|CX|QF|UA|DL|AA|EI|IB|VY|TP|AY|TK|LM|LX|OS|SN|AC|AI|NH|JL|KE|TG|MH|SV|MS|ET|KQ|SA|LA|AV|AM|WS|B6|DY|SK|EW|HV|BY|TOM)\s?\d{1,4}[A-Z]?\b/

export const TRAIN_OPERATORS = [
  "avanti", "avanti west coast", "lner", "london north eastern", "gwr", "great western railway", "northern rail",
  "northern trains", "crosscountry", "cross country trains", "scotrail", "southeastern", "southern rail",
  "thameslink", "transpennine", "transpennine express", "tpe", "chiltern railways", "merseyrail", "greater anglia",
  "south western railway", "swr", "c2c", "lumo", "caledonian sleeper", "hull trains", "grand central", "west midlands railway",
  "london northwestern", "east midlands railway", "transport for wales", "tfw rail", "great northern",
  "heathrow express", "gatwick express", "stansted express", "elizabeth line", "london overground", "irish rail",
  "iarnrod eireann", "translink nir", "trainline", "sncf", "tgv", "inoui", "ouigo", "deutsche bahn", "db bahn",
  "bahn", "db fernverkehr", "ice train", "trenitalia", "frecciarossa", "italo", "renfe", "ave train", "sbb", "obb", "nightjet",
  "ns international", "amtrak", "via rail", "shinkansen", "jr east", "jr central", "ktx", "vr group",
]

/** Operators whose trains cross borders: DESNZ's "International rail". */
export const INTERNATIONAL_TRAIN_OPERATORS = ["thalys", "eurocity", "eurostar", "european sleeper", "railjet"]

export const BRANDS: ReadonlyArray<Brand> = [
  { phrases: AIRLINES, as: "airline" },
  { phrases: TRAIN_OPERATORS, as: "train" },
  { phrases: INTERNATIONAL_TRAIN_OPERATORS, as: "eurostar" },
  {
    phrases: [
      "premier inn", "travelodge", "hilton", "marriott", "holiday inn", "ihg", "hyatt", "radisson", "novotel", "ibis",
      "accor", "best western", "sheraton", "westin", "crowne plaza", "mercure", "taj hotel", "mandarin oriental",
      "four seasons", "jurys inn", "leonardo hotel", "nh hotel", "melia", "courtyard by marriott", "hampton by hilton",
      "doubletree", "booking com", "hotels com", "staybridge", "citizenm", "motel one", "hotel ibis", "sofitel", "pullman",
      "intercontinental", "kempinski", "shangri la", "fairmont", "ritz carlton", "st regis", "moxy", "premier inns",
    ],
    as: "hotel",
  },
  { phrases: ["addison lee", "bolt", "lyft", "free now", "freenow", "gett", "ola cabs", "didi", "careem", "kapten", "cabcharge"], as: "taxi" },
  { phrases: ["national express", "megabus", "flixbus", "scottish citylink", "citylink", "greyhound"], as: "coach" },
  { phrases: ["stagecoach", "arriva", "first bus", "go ahead", "metrobus", "lothian buses"], as: "bus" },
  { phrases: ["hertz", "avis", "europcar", "sixt", "zipcar", "enterprise rent a car", "enterprise car hire", "alamo", "thrifty"], as: "hire car" },
  {
    phrases: [
      "maersk", "msc", "cma cgm", "cosco", "hapag lloyd", "hapag", "evergreen line", "evergreen marine", "ocean network express",
      "yang ming", "zim line", "oocl", "wan hai", "hamburg sud", "x press feeders", "unifeeder",
    ],
    as: "container ship",
  },
  {
    phrases: [
      "p and o ferries", "stena line", "dfds", "brittany ferries", "irish ferries", "calmac", "red funnel", "wightlink",
      "condor ferries", "northlink", "isle of man steam packet", "steam packet", "hovertravel",
    ],
    as: "ferry",
  },
  {
    phrases: [
      "biffa", "veolia", "suez", "viridor", "grundon", "fcc environment", "renewi", "serco waste", "cory", "enva", "reconomy",
      "recycling lives", "olleco", "countrystyle", "bywaters", "paper round", "first mile", "wastecare", "mitie waste",
    ],
    as: "waste",
  },
  {
    phrases: [
      "dpd", "dpd local", "dhl", "dhl parcel", "fedex", "tnt", "royal mail", "parcelforce", "evri", "hermes", "yodel",
      "dx delivery", "dx freight", "ups parcel", "ups courier", "ups delivery", "amazon logistics", "apc overnight",
      "interlink express", "citysprint", "gophr", "stuart delivery", "tuffnells", "palletways", "pall ex", "palletline",
    ],
    as: "courier",
  },
  { phrases: ["dhl aviation", "dhl air", "fedex express", "ups airlines", "cargolux", "atlas air", "dhl express"], as: "air freight courier" },
]

/**
 * Names that say how an activity was paid or booked, not what it is: fuel cards, travel agents,
 * expense tools, reference wording. The tokeniser drops them, so "Allstar fuel card - DERV" is judged
 * on "DERV" alone and a card's "fuel" cannot stand in for a fuel the line does not name.
 */
export const NEUTRAL_PHRASES = [
  "allstar", "keyfuels", "bp plus", "bp fuel card", "shell fleet card", "shell card", "esso card", "esso fuel card",
  "texaco fastfuel", "fastfuel", "fuelgenie", "uk fuels", "fleetone", "wex", "dkv", "radius", "edenred", "fuel card",
  "fleet card", "travelperk", "egencia", "concur", "amex gbt", "cwt", "clarity travel", "reed and mackay", "expensify",
  "inv", "ref", "po", "acct", "credit note", "monthly", "quarterly",
  // Fuel brands and distributors: "Crown Oil" sells every oil, so its "oil" says nothing.
  "totalenergies", "total energies", "shell", "bp", "esso", "texaco", "gulf", "valero", "chevron", "exxonmobil", "exxon",
  "mobil", "engen", "caltex", "petronas", "ampol", "repsol", "cepsa", "galp", "eni", "omv", "q8", "circle k", "murco",
  "certas", "certas energy", "crown oil", "watson fuels", "gb oils", "nicholls fuel", "portland fuels", "harvest energy",
  "pace fuelcare", "fuelcare", "oil4wales", "boilerjuice",
]

/** Makes and models of vehicles: they say which van or car, not what it burns or how it is classed. */
export const VEHICLE_MAKES = [
  "ford", "transit", "vauxhall", "vivaro", "movano", "mercedes", "sprinter", "vito", "vw", "volkswagen", "crafter",
  "transporter", "renault", "trafic", "master", "toyota", "prius", "nissan", "leaf", "tesla", "bmw", "audi", "kia",
  "hyundai", "peugeot", "citroen", "fiat", "ducato", "volvo", "scania", "daf", "iveco", "isuzu", "skoda", "seat",
  "land rover", "range rover", "jaguar", "mini cooper", "honda", "mazda", "lexus", "polestar", "byd", "mg",
]
