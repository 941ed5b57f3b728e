import { httpError } from "@scopeline/ui/ApiError"

/** A period whose end comes before its start: no activity can fall in it, which is surely a mistake. */
export class InventoryPeriodInvalid extends httpError("InventoryPeriodInvalid", 400, "bad_request") {}

/** No export with this id for this account (another person's exports are not shown either). */
export class ExportNotFound extends httpError("ExportNotFound", 404, "not_found") {}

/** The export is not ready to download (still queued or running, or failed). */
export class ExportNotReady extends httpError("ExportNotReady", 409, "conflict") {}

/** This deployment has no export queue (the AWS stack does not create one yet). */
export class ExportsUnavailable extends httpError("ExportsUnavailable", 503, "service_unavailable") {}
