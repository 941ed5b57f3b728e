import { DEMO_TEST_PASSWORD } from "./seed.ts"

/** A small client for the /v1 API of a test server, signed in as one user. */
export const apiClient = async (baseUrl: string, email: string, password = DEMO_TEST_PASSWORD) => {
  const login = await fetch(`${baseUrl}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credentials: { login: email, password } }),
  })
  if (login.status !== 200) throw new Error(`login failed for ${email}: ${login.status}`)
  const { jwt } = (await login.json()) as { jwt: string }
  const headers = { authorization: `Bearer ${jwt}` }
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return {
    jwt,
    get: (path: string) => call("GET", path),
    post: (path: string, body?: unknown) => call("POST", path, body),
    patch: (path: string, body?: unknown) => call("PATCH", path, body),
    delete: (path: string) => call("DELETE", path),
  }
}

export type ApiClient = Awaited<ReturnType<typeof apiClient>>

export interface UploadTarget {
  readonly upload_id: string
  readonly url: string
  readonly method: string
  readonly headers: Record<string, string>
  readonly expires_at: string
  readonly max_bytes: number
}

/** The seed's three steps: ask for a target, put the file there, notify. Returns the upload id. */
export const uploadFile = async (api: ApiClient, content: string | Uint8Array<ArrayBuffer>, filename = "activities.csv") => {
  const target = (await (await api.get(`/v1/upload/new?filename=${encodeURIComponent(filename)}`)).json()) as UploadTarget
  const put = await fetch(target.url, { method: target.method, headers: target.headers, body: content })
  if (put.status !== 201) throw new Error(`upload PUT failed: ${put.status} ${await put.text()}`)
  const notify = await api.post("/v1/upload", { upload_id: target.upload_id })
  if (notify.status !== 204) throw new Error(`notify failed: ${notify.status} ${await notify.text()}`)
  return target.upload_id
}

export interface UploadView {
  readonly status: string
  readonly row_count: number | null
  readonly error_count: number | null
  readonly failure_reason: string | null
  readonly row_errors: ReadonlyArray<{ row: number | null; column: string | null; value: string | null; message: string }>
  readonly activities: Record<string, number>
}

/** Polls an upload until the parse settles (parsed or failed). */
export const settledUpload = async (api: ApiClient, id: string, timeoutMs = 30_000): Promise<UploadView> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const view = (await (await api.get(`/v1/uploads/${id}`)).json()) as UploadView
    if (view.status === "parsed" || view.status === "failed") return view
    await Bun.sleep(50)
  }
  throw new Error(`upload ${id} did not settle`)
}
