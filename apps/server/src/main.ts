import { launch } from "@scopeline/config/launch"
import { LoggingLive } from "@scopeline/config/Logging"
import { Layer } from "effect"
import { serve, ServerServicesLive } from "./ServerLayer.ts"

launch(serve().pipe(Layer.provide(ServerServicesLive), Layer.provide(LoggingLive)))
