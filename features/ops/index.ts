export * from "./http/opsApi.ts"
export * from "./http/opsPage.tsx"
export * from "./http/services.ts"
export * from "./errors.ts"
