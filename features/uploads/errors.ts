import { httpError } from "@scopeline/ui/ApiError"

/** No upload with this id or upload URL (or not one of ours). */
export class UploadNotFound extends httpError("UploadNotFound", 404, "not_found") {}
/** Confirmed before the file reached the store: upload it first, then confirm. */
export class UploadNotYetStored extends httpError("UploadNotYetStored", 409, "conflict") {}
/** An accountant confirming another accountant's upload. */
export class UploadNotYours extends httpError("UploadNotYours", 403, "forbidden") {}
