/**
 * Places the matcher recognises in free text: major cities (→ country, for grid electricity and
 * hotels when no geography is given) and airports by IATA code (→ country and position, to tell a
 * domestic, short-haul, long-haul or non-UK flight apart). Coordinates are approximate (±0.1°),
 * plenty for the DESNZ haul bands (short-haul up to ~3,700 km).
 */

export interface Place {
  readonly iso2: string
  readonly lat: number
  readonly lon: number
}

type Row = readonly [name: string, iso2: string, lat: number, lon: number]

/**
 * Well-known cities, lower-case and unaccented. Names that are also common English words or that
 * are shared by big cities in different countries (Reading, Perth, Nice, Victoria) are left out.
 */
const CITY_ROWS: ReadonlyArray<Row> = [
  // United Kingdom and Ireland
  ["london", "GB", 51.5, -0.13], ["manchester", "GB", 53.48, -2.24], ["birmingham", "GB", 52.48, -1.9],
  ["leeds", "GB", 53.8, -1.55], ["glasgow", "GB", 55.86, -4.25], ["edinburgh", "GB", 55.95, -3.19],
  ["liverpool", "GB", 53.41, -2.98], ["bristol", "GB", 51.45, -2.59], ["sheffield", "GB", 53.38, -1.47],
  ["newcastle", "GB", 54.97, -1.61], ["nottingham", "GB", 52.95, -1.15], ["leicester", "GB", 52.64, -1.13],
  ["cardiff", "GB", 51.48, -3.18], ["belfast", "GB", 54.6, -5.93], ["aberdeen", "GB", 57.15, -2.1],
  ["southampton", "GB", 50.9, -1.4], ["portsmouth", "GB", 50.8, -1.09], ["coventry", "GB", 52.41, -1.51],
  ["bradford", "GB", 53.8, -1.75], ["bolton", "GB", 53.58, -2.43], ["oxford", "GB", 51.75, -1.26],
  ["cambridge", "GB", 52.2, 0.12], ["milton keynes", "GB", 52.04, -0.76], ["norwich", "GB", 52.63, 1.3],
  ["exeter", "GB", 50.72, -3.53], ["plymouth", "GB", 50.37, -4.14], ["swansea", "GB", 51.62, -3.94],
  ["dundee", "GB", 56.46, -2.97], ["inverness", "GB", 57.48, -4.22], ["york", "GB", 53.96, -1.08],
  ["hull", "GB", 53.74, -0.33], ["stoke", "GB", 53.0, -2.18], ["wolverhampton", "GB", 52.59, -2.13],
  ["derby", "GB", 52.92, -1.48], ["sunderland", "GB", 54.91, -1.38], ["brighton", "GB", 50.82, -0.14],
  ["felixstowe", "GB", 51.96, 1.35], ["dover", "GB", 51.13, 1.31], ["heathrow", "GB", 51.47, -0.45],
  ["gatwick", "GB", 51.15, -0.19], ["stansted", "GB", 51.89, 0.24], ["luton", "GB", 51.88, -0.42],
  ["dublin", "IE", 53.35, -6.26], ["cork", "IE", 51.9, -8.47], ["galway", "IE", 53.27, -9.05],
  // Europe
  ["paris", "FR", 48.86, 2.35], ["lyon", "FR", 45.76, 4.84], ["marseille", "FR", 43.3, 5.37],
  ["toulouse", "FR", 43.6, 1.44], ["bordeaux", "FR", 44.84, -0.58], ["lille", "FR", 50.63, 3.06],
  ["calais", "FR", 50.95, 1.86], ["strasbourg", "FR", 48.57, 7.75],
  ["berlin", "DE", 52.52, 13.4], ["munich", "DE", 48.14, 11.58], ["munchen", "DE", 48.14, 11.58],
  ["hamburg", "DE", 53.55, 10.0], ["frankfurt", "DE", 50.11, 8.68], ["cologne", "DE", 50.94, 6.96],
  ["koln", "DE", 50.94, 6.96], ["stuttgart", "DE", 48.78, 9.18], ["dusseldorf", "DE", 51.23, 6.78],
  ["leipzig", "DE", 51.34, 12.37], ["dresden", "DE", 51.05, 13.74], ["hanover", "DE", 52.37, 9.73],
  ["hannover", "DE", 52.37, 9.73], ["nuremberg", "DE", 49.45, 11.08], ["bremen", "DE", 53.08, 8.8],
  ["madrid", "ES", 40.42, -3.7], ["barcelona", "ES", 41.39, 2.17], ["valencia", "ES", 39.47, -0.38],
  ["seville", "ES", 37.39, -5.98], ["bilbao", "ES", 43.26, -2.93], ["malaga", "ES", 36.72, -4.42],
  ["zaragoza", "ES", 41.65, -0.88],
  ["lisbon", "PT", 38.72, -9.14], ["porto", "PT", 41.15, -8.61],
  ["rome", "IT", 41.9, 12.5], ["milan", "IT", 45.46, 9.19], ["milano", "IT", 45.46, 9.19],
  ["naples", "IT", 40.85, 14.27], ["turin", "IT", 45.07, 7.69], ["florence", "IT", 43.77, 11.25],
  ["bologna", "IT", 44.49, 11.34], ["venice", "IT", 45.44, 12.32], ["genoa", "IT", 44.41, 8.93],
  ["amsterdam", "NL", 52.37, 4.9], ["rotterdam", "NL", 51.92, 4.48], ["the hague", "NL", 52.08, 4.3],
  ["utrecht", "NL", 52.09, 5.12], ["eindhoven", "NL", 51.44, 5.48],
  ["brussels", "BE", 50.85, 4.35], ["antwerp", "BE", 51.22, 4.4], ["ghent", "BE", 51.05, 3.72],
  ["luxembourg city", "LU", 49.61, 6.13],
  ["zurich", "CH", 47.37, 8.54], ["geneva", "CH", 46.2, 6.14], ["basel", "CH", 47.56, 7.59],
  ["bern", "CH", 46.95, 7.45], ["lausanne", "CH", 46.52, 6.63],
  ["vienna", "AT", 48.21, 16.37], ["wien", "AT", 48.21, 16.37], ["salzburg", "AT", 47.8, 13.04],
  ["graz", "AT", 47.07, 15.44],
  ["copenhagen", "DK", 55.68, 12.57], ["aarhus", "DK", 56.16, 10.2],
  ["oslo", "NO", 59.91, 10.75], ["bergen", "NO", 60.39, 5.32], ["stavanger", "NO", 58.97, 5.73],
  ["trondheim", "NO", 63.43, 10.4],
  ["stockholm", "SE", 59.33, 18.07], ["gothenburg", "SE", 57.71, 11.97], ["goteborg", "SE", 57.71, 11.97],
  ["malmo", "SE", 55.6, 13.0], ["uppsala", "SE", 59.86, 17.64],
  ["helsinki", "FI", 60.17, 24.94], ["espoo", "FI", 60.21, 24.66], ["tampere", "FI", 61.5, 23.76],
  ["reykjavik", "IS", 64.15, -21.94],
  ["warsaw", "PL", 52.23, 21.01], ["krakow", "PL", 50.06, 19.94], ["wroclaw", "PL", 51.11, 17.03],
  ["gdansk", "PL", 54.35, 18.65], ["poznan", "PL", 52.41, 16.93], ["lodz", "PL", 51.76, 19.46],
  ["katowice", "PL", 50.26, 19.02],
  ["prague", "CZ", 50.08, 14.44], ["brno", "CZ", 49.2, 16.61], ["bratislava", "SK", 48.15, 17.11],
  ["budapest", "HU", 47.5, 19.04], ["bucharest", "RO", 44.43, 26.1], ["cluj", "RO", 46.77, 23.6],
  ["sofia", "BG", 42.7, 23.32], ["athens", "GR", 37.98, 23.73], ["thessaloniki", "GR", 40.64, 22.94],
  ["zagreb", "HR", 45.81, 15.98], ["ljubljana", "SI", 46.06, 14.51], ["belgrade", "RS", 44.79, 20.45],
  ["tallinn", "EE", 59.44, 24.75], ["riga", "LV", 56.95, 24.11], ["vilnius", "LT", 54.69, 25.28],
  ["kyiv", "UA", 50.45, 30.52], ["kiev", "UA", 50.45, 30.52], ["moscow", "RU", 55.76, 37.62],
  ["st petersburg", "RU", 59.93, 30.36], ["saint petersburg", "RU", 59.93, 30.36],
  ["istanbul", "TR", 41.01, 28.98], ["ankara", "TR", 39.93, 32.86], ["izmir", "TR", 38.42, 27.14],
  ["valletta", "MT", 35.9, 14.51], ["nicosia", "CY", 35.17, 33.36],
  // Middle East and Africa
  ["dubai", "AE", 25.2, 55.27], ["abu dhabi", "AE", 24.45, 54.38], ["sharjah", "AE", 25.35, 55.42],
  ["doha", "QA", 25.29, 51.53], ["riyadh", "SA", 24.71, 46.68], ["jeddah", "SA", 21.49, 39.19],
  ["kuwait city", "KW", 29.38, 47.99], ["muscat", "OM", 23.59, 58.41], ["manama", "BH", 26.23, 50.59],
  ["tel aviv", "IL", 32.09, 34.78], ["jerusalem", "IL", 31.77, 35.21], ["amman", "JO", 31.95, 35.93],
  ["beirut", "LB", 33.89, 35.5], ["tehran", "IR", 35.69, 51.39], ["baghdad", "IQ", 33.31, 44.36],
  ["cairo", "EG", 30.04, 31.24], ["alexandria", "EG", 31.2, 29.92], ["casablanca", "MA", 33.57, -7.59],
  ["marrakech", "MA", 31.63, -8.0], ["tunis", "TN", 36.81, 10.18], ["algiers", "DZ", 36.75, 3.06],
  ["lagos", "NG", 6.52, 3.38], ["abuja", "NG", 9.08, 7.4], ["accra", "GH", 5.6, -0.19],
  ["nairobi", "KE", -1.29, 36.82], ["mombasa", "KE", -4.04, 39.67], ["addis ababa", "ET", 9.03, 38.74],
  ["dar es salaam", "TZ", -6.79, 39.21], ["kampala", "UG", 0.35, 32.58], ["kigali", "RW", -1.95, 30.06],
  ["johannesburg", "ZA", -26.2, 28.05], ["cape town", "ZA", -33.92, 18.42], ["durban", "ZA", -29.86, 31.02],
  ["pretoria", "ZA", -25.75, 28.19], ["dakar", "SN", 14.72, -17.47], ["luanda", "AO", -8.84, 13.23],
  ["harare", "ZW", -17.83, 31.05], ["lusaka", "ZM", -15.39, 28.32],
  // Asia
  ["beijing", "CN", 39.9, 116.4], ["shanghai", "CN", 31.23, 121.47], ["shenzhen", "CN", 22.54, 114.06],
  ["guangzhou", "CN", 23.13, 113.26], ["chengdu", "CN", 30.57, 104.07], ["chongqing", "CN", 29.56, 106.55],
  ["tianjin", "CN", 39.34, 117.36], ["wuhan", "CN", 30.59, 114.31], ["hangzhou", "CN", 30.27, 120.16],
  ["nanjing", "CN", 32.06, 118.8], ["suzhou", "CN", 31.3, 120.59], ["xiamen", "CN", 24.48, 118.09],
  ["dongguan", "CN", 23.02, 113.75], ["qingdao", "CN", 36.07, 120.38], ["ningbo", "CN", 29.87, 121.54],
  ["xian", "CN", 34.34, 108.94], ["shenyang", "CN", 41.8, 123.43], ["dalian", "CN", 38.91, 121.6],
  ["hong kong", "HK", 22.32, 114.17], ["kowloon", "HK", 22.32, 114.18], ["macau", "MO", 22.2, 113.54],
  ["taipei", "TW", 25.03, 121.57], ["kaohsiung", "TW", 22.63, 120.3], ["hsinchu", "TW", 24.8, 120.97],
  ["tokyo", "JP", 35.68, 139.69], ["osaka", "JP", 34.69, 135.5], ["yokohama", "JP", 35.44, 139.64],
  ["nagoya", "JP", 35.18, 136.91], ["kyoto", "JP", 35.01, 135.77], ["fukuoka", "JP", 33.59, 130.4],
  ["sapporo", "JP", 43.06, 141.35], ["kobe", "JP", 34.69, 135.2],
  ["seoul", "KR", 37.57, 126.98], ["busan", "KR", 35.18, 129.08], ["incheon", "KR", 37.46, 126.71],
  ["singapore", "SG", 1.35, 103.82], ["jurong", "SG", 1.33, 103.74], ["tampines", "SG", 1.35, 103.94],
  ["kuala lumpur", "MY", 3.14, 101.69], ["penang", "MY", 5.41, 100.33], ["johor bahru", "MY", 1.49, 103.74],
  ["bangkok", "TH", 13.76, 100.5], ["chiang mai", "TH", 18.79, 98.99], ["phuket", "TH", 7.88, 98.39],
  ["jakarta", "ID", -6.2, 106.85], ["surabaya", "ID", -7.25, 112.75], ["bali", "ID", -8.34, 115.09],
  ["manila", "PH", 14.6, 120.98], ["cebu", "PH", 10.32, 123.89], ["makati", "PH", 14.55, 121.02],
  ["hanoi", "VN", 21.03, 105.85], ["ho chi minh city", "VN", 10.82, 106.63], ["ho chi minh", "VN", 10.82, 106.63],
  ["saigon", "VN", 10.82, 106.63], ["da nang", "VN", 16.05, 108.2], ["haiphong", "VN", 20.86, 106.68],
  ["phnom penh", "KH", 11.56, 104.93], ["yangon", "MM", 16.87, 96.2], ["vientiane", "LA", 17.98, 102.63],
  ["mumbai", "IN", 19.08, 72.88], ["bombay", "IN", 19.08, 72.88], ["delhi", "IN", 28.61, 77.21],
  ["new delhi", "IN", 28.61, 77.21], ["bangalore", "IN", 12.97, 77.59], ["bengaluru", "IN", 12.97, 77.59],
  ["chennai", "IN", 13.08, 80.27], ["hyderabad", "IN", 17.39, 78.49], ["kolkata", "IN", 22.57, 88.36],
  ["pune", "IN", 18.52, 73.86], ["ahmedabad", "IN", 23.02, 72.57], ["gurgaon", "IN", 28.46, 77.03],
  ["gurugram", "IN", 28.46, 77.03], ["noida", "IN", 28.54, 77.39],
  ["karachi", "PK", 24.86, 67.0], ["lahore", "PK", 31.55, 74.34], ["islamabad", "PK", 33.68, 73.05],
  ["dhaka", "BD", 23.81, 90.41], ["chittagong", "BD", 22.36, 91.78], ["colombo", "LK", 6.93, 79.86],
  ["kathmandu", "NP", 27.72, 85.32], ["almaty", "KZ", 43.24, 76.89], ["tashkent", "UZ", 41.3, 69.24],
  // Oceania
  ["sydney", "AU", -33.87, 151.21], ["melbourne", "AU", -37.81, 144.96], ["brisbane", "AU", -27.47, 153.03],
  ["adelaide", "AU", -34.93, 138.6], ["canberra", "AU", -35.28, 149.13], ["darwin", "AU", -12.46, 130.84],
  ["gold coast", "AU", -28.02, 153.4], ["new south wales", "AU", -33.0, 147.0],
  ["auckland", "NZ", -36.85, 174.76], ["christchurch", "NZ", -43.53, 172.64],
  // Americas
  ["new york", "US", 40.71, -74.01], ["new york city", "US", 40.71, -74.01], ["nyc", "US", 40.71, -74.01],
  ["los angeles", "US", 34.05, -118.24], ["san francisco", "US", 37.77, -122.42], ["chicago", "US", 41.88, -87.63],
  ["houston", "US", 29.76, -95.37], ["dallas", "US", 32.78, -96.8], ["austin", "US", 30.27, -97.74],
  ["seattle", "US", 47.61, -122.33], ["boston", "US", 42.36, -71.06], ["miami", "US", 25.76, -80.19],
  ["atlanta", "US", 33.75, -84.39], ["denver", "US", 39.74, -104.99], ["phoenix", "US", 33.45, -112.07],
  ["philadelphia", "US", 39.95, -75.17], ["washington dc", "US", 38.9, -77.04], ["san diego", "US", 32.72, -117.16],
  ["san jose", "US", 37.34, -121.89], ["las vegas", "US", 36.17, -115.14], ["detroit", "US", 42.33, -83.05],
  ["minneapolis", "US", 44.98, -93.27], ["pittsburgh", "US", 40.44, -80.0], ["charlotte", "US", 35.23, -80.84],
  ["nashville", "US", 36.16, -86.78], ["new orleans", "US", 29.95, -90.07], ["new jersey", "US", 40.06, -74.41],
  ["silicon valley", "US", 37.39, -122.08], ["honolulu", "US", 21.31, -157.86],
  ["toronto", "CA", 43.65, -79.38], ["montreal", "CA", 45.5, -73.57], ["vancouver", "CA", 49.28, -123.12],
  ["calgary", "CA", 51.05, -114.07], ["ottawa", "CA", 45.42, -75.7], ["edmonton", "CA", 53.55, -113.49],
  ["winnipeg", "CA", 49.9, -97.14], ["quebec city", "CA", 46.81, -71.21],
  ["mexico city", "MX", 19.43, -99.13], ["guadalajara", "MX", 20.66, -103.35], ["monterrey", "MX", 25.69, -100.32],
  ["sao paulo", "BR", -23.55, -46.63], ["rio de janeiro", "BR", -22.91, -43.17], ["brasilia", "BR", -15.79, -47.88],
  ["buenos aires", "AR", -34.6, -58.38], ["santiago", "CL", -33.45, -70.67], ["lima", "PE", -12.05, -77.04],
  ["bogota", "CO", 4.71, -74.07], ["medellin", "CO", 6.24, -75.58], ["quito", "EC", -0.18, -78.47],
  ["caracas", "VE", 10.48, -66.9], ["montevideo", "UY", -34.9, -56.16], ["panama city", "PA", 8.98, -79.52],
  ["san juan", "PR", 18.47, -66.11], ["kingston", "JM", 17.97, -76.79],
]

/** IATA codes of the airports business travel and air freight mostly use. */
const AIRPORT_ROWS: ReadonlyArray<Row> = [
  // UK and Ireland
  ["LHR", "GB", 51.47, -0.45], ["LGW", "GB", 51.15, -0.19], ["STN", "GB", 51.89, 0.24], ["LTN", "GB", 51.88, -0.37],
  ["LCY", "GB", 51.5, 0.05], ["MAN", "GB", 53.35, -2.27], ["BHX", "GB", 52.45, -1.75], ["EDI", "GB", 55.95, -3.37],
  ["GLA", "GB", 55.87, -4.43], ["BRS", "GB", 51.38, -2.72], ["NCL", "GB", 55.04, -1.69], ["LPL", "GB", 53.33, -2.85],
  ["EMA", "GB", 52.83, -1.33], ["LBA", "GB", 53.87, -1.66], ["ABZ", "GB", 57.2, -2.2], ["BFS", "GB", 54.66, -6.22],
  ["BHD", "GB", 54.62, -5.87], ["SOU", "GB", 50.95, -1.36], ["CWL", "GB", 51.4, -3.34], ["INV", "GB", 57.54, -4.05],
  ["EXT", "GB", 50.73, -3.41], ["JER", "JE", 49.21, -2.2], ["GCI", "GG", 49.43, -2.6], ["IOM", "IM", 54.08, -4.62],
  ["DUB", "IE", 53.42, -6.27], ["ORK", "IE", 51.84, -8.49], ["SNN", "IE", 52.7, -8.92],
  // Europe
  ["CDG", "FR", 49.01, 2.55], ["ORY", "FR", 48.72, 2.38], ["NCE", "FR", 43.66, 7.22], ["LYS", "FR", 45.73, 5.08],
  ["MRS", "FR", 43.44, 5.22], ["TLS", "FR", 43.63, 1.37], ["BOD", "FR", 44.83, -0.72],
  ["AMS", "NL", 52.31, 4.76], ["RTM", "NL", 51.96, 4.44], ["EIN", "NL", 51.45, 5.37],
  ["BRU", "BE", 50.9, 4.48], ["LUX", "LU", 49.63, 6.21],
  ["FRA", "DE", 50.04, 8.56], ["MUC", "DE", 48.35, 11.79], ["BER", "DE", 52.36, 13.5], ["TXL", "DE", 52.56, 13.29],
  ["HAM", "DE", 53.63, 9.99], ["DUS", "DE", 51.29, 6.77], ["CGN", "DE", 50.87, 7.14], ["STR", "DE", 48.69, 9.22],
  ["LEJ", "DE", 51.42, 12.24], ["HAJ", "DE", 52.46, 9.69], ["NUE", "DE", 49.5, 11.08],
  ["ZRH", "CH", 47.46, 8.55], ["GVA", "CH", 46.24, 6.11], ["BSL", "CH", 47.6, 7.53],
  ["VIE", "AT", 48.11, 16.57], ["SZG", "AT", 47.79, 13.0],
  ["MAD", "ES", 40.47, -3.57], ["BCN", "ES", 41.3, 2.08], ["AGP", "ES", 36.67, -4.5], ["PMI", "ES", 39.55, 2.73],
  ["ALC", "ES", 38.28, -0.56], ["VLC", "ES", 39.49, -0.48], ["SVQ", "ES", 37.42, -5.9], ["BIO", "ES", 43.3, -2.91],
  ["TFS", "ES", 28.04, -16.57], ["LPA", "ES", 27.93, -15.39], ["IBZ", "ES", 38.87, 1.37],
  ["LIS", "PT", 38.77, -9.13], ["OPO", "PT", 41.24, -8.68], ["FAO", "PT", 37.01, -7.97],
  ["FCO", "IT", 41.8, 12.25], ["MXP", "IT", 45.63, 8.72], ["LIN", "IT", 45.45, 9.28], ["BGY", "IT", 45.67, 9.7],
  ["VCE", "IT", 45.51, 12.35], ["NAP", "IT", 40.88, 14.29], ["BLQ", "IT", 44.54, 11.29], ["FLR", "IT", 43.81, 11.2],
  ["CPH", "DK", 55.62, 12.66], ["BLL", "DK", 55.74, 9.15],
  ["OSL", "NO", 60.19, 11.1], ["BGO", "NO", 60.29, 5.22], ["SVG", "NO", 58.88, 5.64], ["TRD", "NO", 63.46, 10.92],
  ["ARN", "SE", 59.65, 17.92], ["GOT", "SE", 57.66, 12.28], ["HEL", "FI", 60.32, 24.96], ["KEF", "IS", 63.99, -22.62],
  ["WAW", "PL", 52.17, 20.97], ["KRK", "PL", 50.08, 19.78], ["GDN", "PL", 54.38, 18.47], ["WRO", "PL", 51.1, 16.89],
  ["PRG", "CZ", 50.1, 14.26], ["BUD", "HU", 47.44, 19.26], ["OTP", "RO", 44.57, 26.08], ["SOF", "BG", 42.7, 23.41],
  ["ATH", "GR", 37.94, 23.94], ["SKG", "GR", 40.52, 22.97], ["ZAG", "HR", 45.74, 16.07], ["BEG", "RS", 44.82, 20.29],
  ["RIX", "LV", 56.92, 23.97], ["TLL", "EE", 59.41, 24.83], ["VNO", "LT", 54.63, 25.29], ["KBP", "UA", 50.35, 30.89],
  ["SVO", "RU", 55.97, 37.41], ["DME", "RU", 55.41, 37.9], ["LED", "RU", 59.8, 30.26],
  ["IST", "TR", 41.26, 28.74], ["SAW", "TR", 40.9, 29.31], ["ESB", "TR", 40.13, 32.99], ["AYT", "TR", 36.9, 30.8],
  ["MLA", "MT", 35.86, 14.48], ["LCA", "CY", 34.88, 33.62],
  // Middle East and Africa
  ["DXB", "AE", 25.25, 55.36], ["DWC", "AE", 24.9, 55.16], ["AUH", "AE", 24.43, 54.65], ["SHJ", "AE", 25.33, 55.52],
  ["DOH", "QA", 25.27, 51.61], ["RUH", "SA", 24.96, 46.7], ["JED", "SA", 21.68, 39.16], ["KWI", "KW", 29.24, 47.97],
  ["MCT", "OM", 23.59, 58.28], ["BAH", "BH", 26.27, 50.63], ["TLV", "IL", 32.01, 34.89], ["AMM", "JO", 31.72, 35.99],
  ["BEY", "LB", 33.82, 35.49], ["IKA", "IR", 35.42, 51.15],
  ["CAI", "EG", 30.12, 31.41], ["CMN", "MA", 33.37, -7.59], ["RAK", "MA", 31.61, -8.04], ["TUN", "TN", 36.85, 10.23],
  ["ALG", "DZ", 36.69, 3.22], ["LOS", "NG", 6.58, 3.32], ["ABV", "NG", 9.01, 7.26], ["ACC", "GH", 5.61, -0.17],
  ["NBO", "KE", -1.32, 36.93], ["ADD", "ET", 8.98, 38.8], ["DAR", "TZ", -6.88, 39.2], ["EBB", "UG", 0.04, 32.44],
  ["KGL", "RW", -1.97, 30.14], ["JNB", "ZA", -26.14, 28.24], ["CPT", "ZA", -33.97, 18.6], ["DUR", "ZA", -29.61, 31.12],
  ["DSS", "SN", 14.67, -17.07], ["MRU", "MU", -20.43, 57.68],
  // Asia
  ["PEK", "CN", 40.08, 116.58], ["PKX", "CN", 39.51, 116.41], ["PVG", "CN", 31.14, 121.81], ["SHA", "CN", 31.2, 121.34],
  ["CAN", "CN", 23.39, 113.3], ["SZX", "CN", 22.64, 113.81], ["CTU", "CN", 30.58, 103.95], ["CKG", "CN", 29.72, 106.64],
  ["HGH", "CN", 30.23, 120.43], ["XMN", "CN", 24.54, 118.13], ["WUH", "CN", 30.78, 114.21], ["NKG", "CN", 31.74, 118.86],
  ["TAO", "CN", 36.36, 120.09], ["XIY", "CN", 34.45, 108.75], ["KMG", "CN", 25.1, 102.93],
  ["HKG", "HK", 22.31, 113.92], ["MFM", "MO", 22.15, 113.59], ["TPE", "TW", 25.08, 121.23], ["KHH", "TW", 22.58, 120.35],
  ["NRT", "JP", 35.77, 140.39], ["HND", "JP", 35.55, 139.78], ["KIX", "JP", 34.43, 135.24], ["ITM", "JP", 34.79, 135.44],
  ["NGO", "JP", 34.86, 136.81], ["FUK", "JP", 33.59, 130.45], ["CTS", "JP", 42.78, 141.69],
  ["ICN", "KR", 37.46, 126.44], ["GMP", "KR", 37.56, 126.79], ["PUS", "KR", 35.18, 128.94],
  ["SIN", "SG", 1.36, 103.99], ["KUL", "MY", 2.75, 101.71], ["PEN", "MY", 5.3, 100.28], ["BKK", "TH", 13.69, 100.75],
  ["DMK", "TH", 13.91, 100.61], ["HKT", "TH", 8.11, 98.32], ["CGK", "ID", -6.13, 106.66], ["DPS", "ID", -8.75, 115.17],
  ["SUB", "ID", -7.38, 112.79], ["MNL", "PH", 14.51, 121.02], ["CEB", "PH", 10.31, 123.98], ["SGN", "VN", 10.82, 106.66],
  ["HAN", "VN", 21.22, 105.81], ["DAD", "VN", 16.04, 108.2], ["PNH", "KH", 11.55, 104.84], ["RGN", "MM", 16.91, 96.13],
  ["BOM", "IN", 19.09, 72.87], ["DEL", "IN", 28.56, 77.1], ["BLR", "IN", 13.2, 77.71], ["MAA", "IN", 12.99, 80.17],
  ["HYD", "IN", 17.24, 78.43], ["CCU", "IN", 22.65, 88.45], ["AMD", "IN", 23.07, 72.63], ["PNQ", "IN", 18.58, 73.92],
  ["COK", "IN", 10.15, 76.4], ["GOI", "IN", 15.38, 73.83], ["KHI", "PK", 24.91, 67.16], ["LHE", "PK", 31.52, 74.4],
  ["ISB", "PK", 33.55, 72.83], ["DAC", "BD", 23.84, 90.4], ["CMB", "LK", 7.18, 79.88], ["KTM", "NP", 27.7, 85.36],
  ["MLE", "MV", 4.19, 73.53], ["ALA", "KZ", 43.35, 77.04], ["TAS", "UZ", 41.26, 69.28],
  // Oceania
  ["SYD", "AU", -33.95, 151.18], ["MEL", "AU", -37.67, 144.84], ["BNE", "AU", -27.38, 153.12], ["PER", "AU", -31.94, 115.97],
  ["ADL", "AU", -34.95, 138.53], ["CBR", "AU", -35.31, 149.19], ["OOL", "AU", -28.16, 153.5], ["DRW", "AU", -12.41, 130.88],
  ["AKL", "NZ", -37.01, 174.79], ["WLG", "NZ", -41.33, 174.81], ["CHC", "NZ", -43.49, 172.53], ["NAN", "FJ", -17.76, 177.44],
  // North America
  ["JFK", "US", 40.64, -73.78], ["EWR", "US", 40.69, -74.17], ["LGA", "US", 40.78, -73.87], ["BOS", "US", 42.36, -71.01],
  ["IAD", "US", 38.95, -77.46], ["DCA", "US", 38.85, -77.04], ["BWI", "US", 39.18, -76.67], ["PHL", "US", 39.87, -75.24],
  ["ORD", "US", 41.97, -87.91], ["MDW", "US", 41.79, -87.75], ["ATL", "US", 33.64, -84.43], ["MIA", "US", 25.79, -80.29],
  ["MCO", "US", 28.43, -81.31], ["FLL", "US", 26.07, -80.15], ["TPA", "US", 27.98, -82.53], ["CLT", "US", 35.21, -80.94],
  ["DFW", "US", 32.9, -97.04], ["IAH", "US", 29.99, -95.34], ["AUS", "US", 30.19, -97.67], ["DEN", "US", 39.86, -104.67],
  ["PHX", "US", 33.44, -112.01], ["LAS", "US", 36.08, -115.15], ["LAX", "US", 33.94, -118.41], ["SFO", "US", 37.62, -122.38],
  ["SJC", "US", 37.36, -121.93], ["OAK", "US", 37.72, -122.22], ["SAN", "US", 32.73, -117.19], ["SEA", "US", 47.45, -122.31],
  ["PDX", "US", 45.59, -122.6], ["SLC", "US", 40.79, -111.98], ["MSP", "US", 44.88, -93.22], ["DTW", "US", 42.21, -83.35],
  ["STL", "US", 38.75, -90.37], ["BNA", "US", 36.12, -86.68], ["MSY", "US", 29.99, -90.26], ["PIT", "US", 40.49, -80.23],
  ["RDU", "US", 35.88, -78.79], ["HNL", "US", 21.32, -157.92], ["ANC", "US", 61.17, -150.0], ["MEM", "US", 35.04, -89.98],
  ["SDF", "US", 38.17, -85.74], ["CVG", "US", 39.05, -84.67],
  ["YYZ", "CA", 43.68, -79.63], ["YUL", "CA", 45.47, -73.74], ["YVR", "CA", 49.19, -123.18], ["YYC", "CA", 51.13, -114.01],
  ["YOW", "CA", 45.32, -75.67], ["YEG", "CA", 53.31, -113.58], ["YWG", "CA", 49.91, -97.24], ["YHZ", "CA", 44.88, -63.51],
  ["MEX", "MX", 19.44, -99.07], ["CUN", "MX", 21.04, -86.87], ["GDL", "MX", 20.52, -103.31], ["MTY", "MX", 25.78, -100.11],
  // Latin America and Caribbean
  ["GRU", "BR", -23.43, -46.47], ["GIG", "BR", -22.81, -43.25], ["BSB", "BR", -15.87, -47.92], ["EZE", "AR", -34.82, -58.54],
  ["SCL", "CL", -33.39, -70.79], ["LIM", "PE", -12.02, -77.11], ["BOG", "CO", 4.7, -74.15], ["MDE", "CO", 6.16, -75.42],
  ["UIO", "EC", -0.13, -78.36], ["PTY", "PA", 9.07, -79.38], ["SJO", "CR", 9.99, -84.2], ["MVD", "UY", -34.84, -56.03],
  ["KIN", "JM", 17.94, -76.79], ["MBJ", "JM", 18.5, -77.91], ["BGI", "BB", 13.07, -59.49], ["NAS", "BS", 25.04, -77.47],
  ["SJU", "PR", 18.44, -66.0], ["POS", "TT", 10.6, -61.34],
]

const toPlace = ([, iso2, lat, lon]: Row): Place => ({ iso2, lat, lon })

export const CITIES: ReadonlyMap<string, Place> = new Map(CITY_ROWS.map((row) => [row[0], toPlace(row)]))
export const AIRPORTS: ReadonlyMap<string, Place> = new Map(AIRPORT_ROWS.map((row) => [row[0], toPlace(row)]))
const LONGEST_CITY = Math.max(...CITY_ROWS.map(([name]) => name.split(" ").length))

/** Lower-case, unaccented words, unstemmed and with stop words kept ("rio de janeiro"). */
export const plainWords = (text: string): Array<string> =>
  text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/\bst\.\s/g, "st ")
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)

/** Cities named in the text, longest names first, in the order they appear. */
export const citiesIn = (words: ReadonlyArray<string>): Array<Place & { readonly name: string; readonly at: number }> => {
  const found: Array<Place & { name: string; at: number }> = []
  const taken = new Set<number>()
  for (let size = LONGEST_CITY; size >= 1; size--) {
    for (let i = 0; i + size <= words.length; i++) {
      if ([...Array(size).keys()].some((k) => taken.has(i + k))) continue
      const name = words.slice(i, i + size).join(" ")
      const place = CITIES.get(name)
      if (place) {
        found.push({ ...place, name, at: i })
        for (let k = 0; k < size; k++) taken.add(i + k)
      }
    }
  }
  return found.sort((a, b) => a.at - b.at)
}

/** Codes that are also words or common abbreviations: they count only as one end of a route. */
const AMBIGUOUS_CODES = new Set([
  "ADD", "ALA", "ALC", "ALG", "AMD", "ANC", "AUS", "BAH", "BEG", "BIO", "BOS", "CAN", "CEB", "CAI", "COK", "DAR", "DEN",
  "DUR", "EIN", "EXT", "FAO", "GOT", "HAM", "HYD", "INV", "KIN", "LAS", "LIN", "LUX", "MAD", "MAN", "MEM", "NAN",
  "OAK", "OPO", "ORD", "PEN", "PER", "PIT", "POS", "SAN", "SAW", "SEA", "SIN", "STR", "SUB", "TAS", "TUN", "ACC",
  "CAN", "SOU", "DUB", "JER",
])

/**
 * Airports written as IATA codes. A code counts when it is written in capitals ("LHR", "to DXB") or
 * when two known codes form a route in any case ("lhr-dxb", "man to ams", "HKG->LHR").
 */
export const airportsIn = (text: string): Array<Place & { readonly code: string }> => {
  const found: Array<Place & { code: string }> = []
  const seen = new Set<string>()
  const add = (code: string) => {
    const place = AIRPORTS.get(code.toUpperCase())
    if (place && !seen.has(code.toUpperCase())) {
      seen.add(code.toUpperCase())
      found.push({ ...place, code: code.toUpperCase() })
    }
  }
  const route = /\b([A-Za-z]{3})\s*(?:-+>?|–|—|→|>|\/|\s+to\s+)\s*([A-Za-z]{3})\b/g
  for (const match of text.matchAll(route)) {
    if (AIRPORTS.has(match[1]!.toUpperCase()) && AIRPORTS.has(match[2]!.toUpperCase())) {
      add(match[1]!)
      add(match[2]!)
    }
  }
  for (const match of text.matchAll(/\b[A-Z]{3}\b/g)) if (!AMBIGUOUS_CODES.has(match[0])) add(match[0])
  return found
}

const RADIANS = Math.PI / 180
/** Great-circle distance in km. */
export const distanceKm = (a: Place, b: Place): number => {
  const dLat = (b.lat - a.lat) * RADIANS
  const dLon = (b.lon - a.lon) * RADIANS
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RADIANS) * Math.cos(b.lat * RADIANS) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)))
}

export type HaulBand = "domestic" | "short" | "long" | "international"

/** DESNZ's short-haul limit for flights to/from the UK. */
export const SHORT_HAUL_KM = 3700

/**
 * DESNZ's flight bands: within the UK is domestic; to or from the UK, short-haul up to ~3,700 km
 * and long-haul beyond; a flight with neither end in the UK is "international, to/from non-UK".
 * Crown dependencies (Jersey, Guernsey, Isle of Man) count as UK here.
 */
export const haulBand = (from: Place, to: Place): HaulBand => {
  const uk = (p: Place) => p.iso2 === "GB" || p.iso2 === "JE" || p.iso2 === "GG" || p.iso2 === "IM"
  if (uk(from) && uk(to)) return "domestic"
  if (!uk(from) && !uk(to)) return "international"
  return distanceKm(from, to) <= SHORT_HAUL_KM ? "short" : "long"
}
