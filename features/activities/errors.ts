/** No activity with this id: one error for every feature that addresses activities (defined where decisions are). */
export { ActivityNotFound } from "@scopeline/matching"
