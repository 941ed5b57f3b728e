import { httpError } from "@scopeline/ui/ApiError"

/** No site with this id (also when the id is not a UUID: it cannot name one). */
export class SiteNotFound extends httpError("SiteNotFound", 404, "not_found") {}
/** Another site already uses this code (codes are unique whatever their case). */
export class SiteCodeTaken extends httpError("SiteCodeTaken", 409, "site_code_taken") {}
/** A batch of more than MAX_BATCH measurements: split it (nothing of it was stored). */
export class BatchTooLarge extends httpError("BatchTooLarge", 413, "payload_too_large") {}
/** One or more items of a batch are invalid; `details` names each index, field and reason. Nothing was stored. */
export class MeasurementsInvalid extends httpError("MeasurementsInvalid", 400, "bad_request") {}
