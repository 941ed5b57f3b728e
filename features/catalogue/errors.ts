import { httpError } from "@scopeline/ui/ApiError"

/** No emission factor with this id. */
export class FactorNotFound extends httpError("FactorNotFound", 404, "not_found") {}
