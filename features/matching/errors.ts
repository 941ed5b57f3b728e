import { httpError } from "@scopeline/ui/ApiError"

/** No activity with this id (also when the id is not a UUID: it cannot name one). */
export class ActivityNotFound extends httpError("ActivityNotFound", 404, "not_found") {}
/** The decision names a factor the catalogue does not hold. */
export class UnknownFactor extends httpError("UnknownFactor", 400, "unknown_factor") {}
/** The chosen factor measures another dimension than the activity (litres against kWh). */
export class UnitIncompatible extends httpError("UnitIncompatible", 400, "unit_incompatible") {}
/** The activity cannot take a decision: no quantity, a unit Scopeline cannot convert, or still being matched. */
export class NotDecidable extends httpError("NotDecidable", 409, "not_decidable") {}
/** `accept` on an activity that has no factor to accept: choose one instead. */
export class NothingToAccept extends httpError("NothingToAccept", 409, "nothing_to_accept") {}
/** A re-match of a key a person decided: the decision holds until a person changes it. */
export class ManualDecisionHolds extends httpError("ManualDecisionHolds", 409, "manual_decision") {}
/** The matcher could not answer the re-match now; nothing was changed. */
export class MatcherNotAnswering extends httpError("MatcherNotAnswering", 503, "matcher_unavailable") {}
