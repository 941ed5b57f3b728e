import { BadRequest } from "@scopeline/domain/ApiError"
import { Effect, ParseResult, Schema } from "effect"

/** Decodes untrusted input with a Schema; failures become a 400 listing each problem and where. */
export const decodeInput =
  <A, I>(schema: Schema.Schema<A, I>, what: string) =>
  (input: unknown) =>
    Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "ignore" })(input).pipe(
      Effect.mapError(
        (error) =>
          new BadRequest({
            message: `The ${what} is invalid.`,
            details: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
              path: issue.path.join("."),
              message: issue.message,
            })),
          }),
      ),
    )

/**
 * A whole number in a query parameter, written in decimal digits only: `0x10`, `1e2`, `+5` and ` 5` are
 * refused rather than read as 16, 100 or 5 (what `Number()` would make of them), so a link means one thing.
 */
export const QueryInt = Schema.String.pipe(
  Schema.pattern(/^(0|[1-9][0-9]{0,14})$/, { message: () => "must be a whole number written in digits (0-9)" }),
  Schema.compose(Schema.NumberFromString),
)

/** Reads a JSON body; a body that is not JSON is a 400, not a crash. */
export const jsonBody = (request: Request) =>
  Effect.tryPromise({
    try: () => request.json() as Promise<unknown>,
    catch: () => new BadRequest({ message: "The request body must be valid JSON." }),
  })
