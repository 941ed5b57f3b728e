export * from "./http/homePage.tsx"
export * from "./http/systemApi.ts"
export * from "./http/services.ts"
