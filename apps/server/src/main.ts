import { launch } from "@scopeline/settings/launch"
import { LoggingLive } from "@scopeline/settings/Logging"
import { Layer } from "effect"
import { serve, ServerServicesLive } from "./ServerLayer.ts"

launch(serve().pipe(Layer.provide(ServerServicesLive), Layer.provide(LoggingLive)))
