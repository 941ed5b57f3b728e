import { httpError } from "@scopeline/ui/ApiError"

/** No recalculation with this id (also when the id is not a UUID: it cannot name one). */
export class RecalculationNotFound extends httpError("RecalculationNotFound", 404, "not_found") {}
/** The factor set named is not in the catalogue; `details.known` lists those that are. */
export class UnknownFactorSet extends httpError("UnknownFactorSet", 400, "unknown_factor_set") {}
