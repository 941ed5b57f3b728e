import { httpError } from "@scopeline/ui/ApiError"

/** The URL is not one a webhook may call (not http(s), unresolvable, or a private/loopback/metadata address). */
export class WebhookTargetRefused extends httpError("WebhookTargetRefused", 400, "webhook_target_refused") {}
/** No such webhook (or it was deleted). */
export class WebhookNotFound extends httpError("WebhookNotFound", 404, "not_found") {}
/** No dead delivery with this id. */
export class DeliveryNotFound extends httpError("DeliveryNotFound", 404, "not_found") {}
