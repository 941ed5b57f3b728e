import { launch } from "@scopeline/config/launch"
import { LoggingLive } from "@scopeline/config/Logging"
import { Layer } from "effect"
import { WorkerLive } from "./WorkerLayer.ts"

launch(WorkerLive.pipe(Layer.provide(LoggingLive)))
