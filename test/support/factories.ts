import { SQL } from "bun"

/**
 * Rows written straight into a test database: the read side (activities, catalogue, ops) is tested
 * against states the pipeline would produce, without running the pipeline to get there.
 */
export const testSql = (databaseUrl: string) => new SQL(databaseUrl)

export interface FactorInput {
  readonly name: string
  readonly unit: string
  readonly factorValue: string
  readonly source?: string
  readonly sourceId?: string
  readonly year?: number
  readonly geography?: string
  readonly scope?: string | null
  readonly categoryPath?: ReadonlyArray<string>
  readonly activityType?: string
  readonly dimension?: string | null
  readonly licence?: string | null
  readonly attribution?: string | null
  readonly publication?: string | null
  readonly sourceFile?: string | null
  /** Per-gas parts (kg CO2e of the gas per unit) and the GHG Protocol scope 3 category. */
  readonly co2Factor?: string | null
  readonly ch4Factor?: string | null
  readonly n2oFactor?: string | null
  readonly scope3Category?: number | null
}

export const insertFactor = async (sql: SQL, f: FactorInput): Promise<string> => {
  const [row] = (await sql`
    INSERT INTO emission_factors (name, activity_type, unit, factor_value, factor_unit, source, source_id, year,
      geography, category_path, scope, licence, attribution, publication, source_file, dimension,
      co2_factor, ch4_factor, n2o_factor, scope3_category)
    VALUES (${f.name}, ${f.activityType ?? f.name}, ${f.unit}, ${f.factorValue}::numeric, 'kg CO2e',
      ${f.source ?? "DESNZ"}, ${f.sourceId ?? crypto.randomUUID()}, ${f.year ?? 2023}, ${f.geography ?? "GB"},
      ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(f.categoryPath ?? [])}::text::jsonb)),
      ${f.scope === undefined ? "Scope 1" : f.scope}, ${f.licence === undefined ? "OGL v3.0" : f.licence},
      ${f.attribution === undefined ? "Contains public sector information licensed under the Open Government Licence v3.0." : f.attribution},
      ${f.publication === undefined ? "Greenhouse gas reporting: conversion factors 2023" : f.publication},
      ${f.sourceFile === undefined ? "ghg-conversion-factors-2023-full-set.xlsx" : f.sourceFile},
      ${f.dimension === undefined ? null : f.dimension},
      ${f.co2Factor ?? null}::numeric, ${f.ch4Factor ?? null}::numeric, ${f.n2oFactor ?? null}::numeric,
      ${f.scope3Category ?? null}::smallint)
    RETURNING id::text AS id`) as Array<{ id: string }>
  return row!.id
}

export const userIdOf = async (sql: SQL, email: string): Promise<string> => {
  const [row] = (await sql`SELECT id::text AS id FROM users WHERE email = ${email}`) as Array<{ id: string }>
  if (!row) throw new Error(`no user ${email}`)
  return row.id
}

/** A parsed upload by this user; `createdAt` orders uploads (and their activities) deterministically. */
export const insertUpload = async (
  sql: SQL,
  accountantEmail: string,
  options: { readonly filename?: string; readonly createdAt?: string } = {},
): Promise<string> => {
  const accountant = await userIdOf(sql, accountantEmail)
  const id = crypto.randomUUID()
  await sql`
    INSERT INTO uploads (id, accountant, s3_object_url, status, original_filename, row_count, created_at, parsed_at)
    VALUES (${id}, ${accountant}, ${`uploads/${id}.csv`}, 'parsed', ${options.filename ?? "activities.csv"}, 0,
      ${options.createdAt ?? new Date().toISOString()}::timestamptz, now())`
  return id
}

export interface ActivityInput {
  readonly description: string
  readonly quantity: string
  readonly unit: string
  readonly date: string
  readonly status?: "ingested" | "matching" | "calculated" | "failed"
  readonly factorId?: string | null
  readonly confidence?: string | null
  readonly emissions?: string | null
  readonly matchSource?: "cache" | "ai" | null
  readonly failureReason?: string | null
  readonly category?: string | null
  readonly geography?: string | null
  readonly reference?: string | null
  readonly extra?: Record<string, string> | null
  /** Emissions per gas as the match pipeline writes them; the rest of `emissions` is `other`. */
  readonly emissionsCo2?: string | null
  readonly emissionsCh4?: string | null
  readonly emissionsN2o?: string | null
}

/**
 * The activities of one upload, numbered from row 2 (row 1 is the header) in one statement, so they
 * share one created_at as the parser's rows do: pagination must then order them by file position.
 */
export const insertActivities = async (
  sql: SQL,
  uploadId: string,
  activities: ReadonlyArray<ActivityInput>,
  createdAt?: string,
): Promise<ReadonlyArray<string>> => {
  const records = activities.map((a, index) => ({
    row_number: index + 2,
    raw_description: a.description,
    raw_volume: a.quantity,
    raw_unit: a.unit,
    activity_date: a.date,
    status: a.status ?? "ingested",
    matched_factor_id: a.factorId ?? null,
    factor_confidence: a.confidence ?? null,
    emissions: a.emissions ?? null,
    emissions_unit: a.emissions == null ? null : "kg CO2e",
    match_source: a.matchSource ?? null,
    failure_reason: a.failureReason ?? null,
    category: a.category ?? null,
    geography: a.geography ?? null,
    reference: a.reference ?? null,
    extra: a.extra ?? null,
    emissions_co2: a.emissionsCo2 ?? null,
    emissions_ch4: a.emissionsCh4 ?? null,
    emissions_n2o: a.emissionsN2o ?? null,
  }))
  const rows = (await sql`
    INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date, status,
      matched_factor_id, factor_confidence, emissions, emissions_unit, match_source, failure_reason, category,
      geography, reference, extra, emissions_co2, emissions_ch4, emissions_n2o, created_at, updated_at)
    SELECT ${uploadId}::uuid, r.row_number, r.raw_description, r.raw_volume::numeric, r.raw_unit, r.activity_date::date,
      r.status::activity_status, r.matched_factor_id::uuid, r.factor_confidence::numeric, r.emissions::numeric,
      r.emissions_unit, r.match_source, r.failure_reason, r.category, r.geography, r.reference, r.extra,
      r.emissions_co2::numeric, r.emissions_ch4::numeric, r.emissions_n2o::numeric,
      coalesce(${createdAt ?? null}::timestamptz, now()), now()
    FROM jsonb_to_recordset(${JSON.stringify(records)}::text::jsonb) AS r(row_number INT, raw_description TEXT,
      raw_volume TEXT, raw_unit TEXT, activity_date TEXT, status TEXT, matched_factor_id TEXT, factor_confidence TEXT,
      emissions TEXT, emissions_unit TEXT, match_source TEXT, failure_reason TEXT, category TEXT, geography TEXT,
      reference TEXT, extra JSONB, emissions_co2 TEXT, emissions_ch4 TEXT, emissions_n2o TEXT)
    ORDER BY r.row_number
    RETURNING id::text AS id, row_number`) as Array<{ id: string; row_number: number }>
  return [...rows].sort((a, b) => a.row_number - b.row_number).map((row) => row.id)
}

/** A message that used up its receives, as the queue leaves it in `dead_letters`. */
export const insertDeadLetter = async (
  sql: SQL,
  queue: "parse" | "match",
  body: unknown,
  lastError: string,
): Promise<string> => {
  const [row] = (await sql`
    INSERT INTO dead_letters (queue, body, receive_count, last_error, first_enqueued_at)
    VALUES (${queue}, ${JSON.stringify(body)}, 5, ${lastError}, now() - interval '1 hour')
    RETURNING id::text AS id`) as Array<{ id: string }>
  return row!.id
}

/** DESNZ 2023's "Diesel (average biofuel blend)" per litre, the factor most fixtures need. */
export const dieselFactor = {
  name: "Diesel (average biofuel blend)",
  unit: "litres",
  factorValue: "2.51279",
  sourceId: "1_100_1000_15_1",
  scope: "Scope 1",
  categoryPath: ["Fuels", "Liquid fuels", "Diesel (average biofuel blend)"],
  dimension: "volume",
} as const
