export * from "./AuditQuery.ts"
export * from "./http/auditApi.ts"
export * from "./http/auditPages.tsx"
export * from "./http/services.ts"
