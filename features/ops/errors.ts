import { httpError } from "@scopeline/ui/ApiError"

/** No dead letter with this id on that queue (it may have been replayed already). */
export class DeadLetterNotFound extends httpError("DeadLetterNotFound", 404, "not_found") {}
/** No queue by that name. */
export class QueueNotFound extends httpError("QueueNotFound", 404, "not_found") {}
