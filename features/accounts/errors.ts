import { httpError } from "@scopeline/ui/ApiError"

/** The password breaks a rule (too short, the email itself, too common); `details.rule` names which. */
export class WeakPassword extends httpError("WeakPassword", 400, "weak_password") {}
/** The invitation link was used, revoked or has expired: it will never work again (410). */
export class InvitationGone extends httpError("InvitationGone", 410, "invitation_gone") {}
/** No such invitation (or not pending any more, for a revoke). */
export class InvitationNotFound extends httpError("InvitationNotFound", 404, "not_found") {}
/** An account or a pending invitation already uses this email. */
export class EmailAlreadyInvited extends httpError("EmailAlreadyInvited", 409, "email_taken") {}
/** No such account (or it was deleted). */
export class UserNotFound extends httpError("UserNotFound", 404, "not_found") {}
/** The change would leave the team without an active admin, and nobody could run it any more. */
export class LastActiveAdmin extends httpError("LastActiveAdmin", 409, "last_active_admin") {}
/** Cognito (AWS mode) could not make the change; nothing was changed here either. */
export class IdentityProviderUnavailable extends httpError("IdentityProviderUnavailable", 503, "service_unavailable") {}
/** AWS mode: an invited person signed in with Cognito's temporary password and must choose their own. */
export class NewPasswordRequired extends httpError("NewPasswordRequired", 401, "new_password_required") {}
/** No active API key with this id. */
export class ApiKeyNotFound extends httpError("ApiKeyNotFound", 404, "not_found") {}
/** A key's `site_ids` names no site, or sites that do not exist: such a key could send nowhere. */
export class ApiKeySitesUnknown extends httpError("ApiKeySitesUnknown", 400, "unknown_sites") {}
