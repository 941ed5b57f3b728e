import type { AccountsServices } from "@scopeline/accounts"
import type { ActivitiesServices } from "@scopeline/activities"
import type { AuditServices } from "@scopeline/audit"
import type { WebhooksServices } from "@scopeline/webhooks"
import type { CatalogueServices } from "@scopeline/catalogue"
import type { HomeServices } from "@scopeline/home"
import type { InventoryServices } from "@scopeline/inventory"
import type { MatchingServices } from "@scopeline/matching"
import type { OpsServices } from "@scopeline/ops"
import type { RecalculationsServices } from "@scopeline/recalculations"
import type { SitesServices } from "@scopeline/sites"
import type { UploadsServices } from "@scopeline/uploads"

/** Everything a request handler may use: what each feature's routes need. The server's layer provides it. */
export type ServerServices = AccountsServices | ActivitiesServices | AuditServices | WebhooksServices | CatalogueServices | HomeServices | InventoryServices | MatchingServices | OpsServices | RecalculationsServices | SitesServices | UploadsServices
