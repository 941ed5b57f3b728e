import { httpError } from "@scopeline/ui/ApiError"

/** No activity with this id. */
export class ActivityNotFound extends httpError("ActivityNotFound", 404, "not_found") {}
