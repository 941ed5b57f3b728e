import { launch } from "@scopeline/settings/launch"
import { LoggingLive } from "@scopeline/settings/Logging"
import { Layer } from "effect"
import { WorkerLive } from "./WorkerLayer.ts"

launch(WorkerLive.pipe(Layer.provide(LoggingLive)))
