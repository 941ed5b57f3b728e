export * from "./MatchUpload.ts"
export * from "./matchWorker.ts"
export * from "./MatcherContract.ts"
export * from "./AiMatcherClient.ts"
