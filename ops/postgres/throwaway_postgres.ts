/**
 * A throwaway PostgreSQL cluster for tests, the bench and local trials: initdb into a temp dir, start it on a
 * free loopback port (no Unix socket outside the temp dir), create one database, and stop and remove it all at
 * the end. Uses Debian's packages (postgresql-15 here); PostgreSQL refuses to run as root, so under root the
 * server runs as the `postgres` user the package creates (or `nobody`).
 *
 * The password is random, the connection URL (which carries it) is written to a 0600 file and never put on a
 * command line. The cluster trades durability for speed (fsync off): it holds only data a test can rebuild.
 *
 * `bun ops/postgres/throwaway_postgres.ts` starts one and prints where its URL file is, until Ctrl-C.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where Debian installs the server binaries (one folder per major version). */
const DEBIAN_PG_LIB = "/usr/lib/postgresql";
/** How long `pg_ctl start` waits for the server to accept connections. */
const START_TIMEOUT_S = 60;
/** Attempts at a free port (another process may take the probed port before the server binds it). */
const PORT_ATTEMPTS = 3;
/** Role the cluster is created with. */
const SUPERUSER = "inlay";

/** A running throwaway cluster. */
export interface ThrowawayPostgres {
  /** `postgres://inlay:<password>@127.0.0.1:<port>/<database>` (keep it off command lines and logs). */
  url: string;
  /** A 0600 file holding `url`, for a child process's `--postgres-url-file`. */
  urlFile: string;
  port: number;
  /** Stops the server (immediate shutdown) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The folder holding initdb, pg_ctl and postgres, or null when PostgreSQL is not installed. */
export function findPostgresBinDir(): string | null {
  const onPath = Bun.which("initdb") && Bun.which("pg_ctl");
  if (onPath) return join(Bun.which("initdb")!, "..");
  if (!existsSync(DEBIAN_PG_LIB)) return null;
  const versions = readdirSync(DEBIAN_PG_LIB)
    .filter((v) => existsSync(join(DEBIAN_PG_LIB, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(DEBIAN_PG_LIB, versions[0], "bin") : null;
}

/**
 * Installs Debian's `postgresql` package (root only; CI machines start without it). Throws with apt's output
 * on failure.
 */
export function installPostgres(): void {
  for (const cmd of [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]]) {
    const r = Bun.spawnSync(cmd, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed (${r.exitCode}): ${r.stderr.toString().slice(-2000)}`);
  }
}

/** The user the server runs as: ourselves, or under root an unprivileged one. */
function serverUser(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const r = Bun.spawnSync(["id", "-u", name]);
    const g = Bun.spawnSync(["id", "-g", name]);
    if (r.exitCode === 0 && g.exitCode === 0) return { name, uid: Number(r.stdout.toString()), gid: Number(g.stdout.toString()) };
  }
  throw new Error("Cannot run PostgreSQL as root and found neither a `postgres` nor a `nobody` user");
}

/** `cmd` as `user` (via runuser, when we are root) or as ourselves. */
const asUser = (user: string | null, cmd: string[]) => (user ? ["runuser", "-u", user, "--", ...cmd] : cmd);

function run(user: string | null, cmd: string[]): void {
  const r = Bun.spawnSync(asUser(user, cmd), { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd[0]} failed (${r.exitCode}): ${(r.stderr.toString() || r.stdout.toString()).slice(-2000)}`);
}

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/**
 * Creates and starts a cluster with database `database` (default "inlay"). Throws when PostgreSQL is missing.
 * @example const pg = await startThrowawayPostgres(); const sql = new SQL(pg.url); ... await pg.stop();
 */
export async function startThrowawayPostgres(opts: { bindir?: string; database?: string } = {}): Promise<ThrowawayPostgres> {
  const bindir = opts.bindir ?? findPostgresBinDir();
  if (!bindir) throw new Error("PostgreSQL is not installed (apt-get install -y postgresql)");
  const database = opts.database ?? "inlay";
  const user = serverUser();
  const dir = mkdtempSync("/tmp/inlay-pg-");
  const data = join(dir, "data");
  const password = crypto.randomUUID().replaceAll("-", "");
  const pwfile = join(dir, "pw");
  const urlFile = join(dir, "url");
  let started = false;
  const pgCtl = (...args: string[]) => [join(bindir, "pg_ctl"), "-D", data, ...args];
  const stopNow = () => {
    if (started) Bun.spawnSync(asUser(user?.name ?? null, pgCtl("-m", "immediate", "-w", "stop")));
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies mid-run must not leave a server behind.
  process.once("exit", stopNow);
  try {
    writeFileSync(pwfile, password + "\n", { mode: 0o600 });
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(pwfile, user.uid, user.gid);
    }
    run(user?.name ?? null, [join(bindir, "initdb"), "-D", data, "-U", SUPERUSER, "--pwfile", pwfile, "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync"]);
    rmSync(pwfile);
    let port = 0;
    for (let attempt = 1; !started; attempt++) {
      port = freePort();
      const settings = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        run(user?.name ?? null, pgCtl("-l", join(dir, "server.log"), "-w", "-t", String(START_TIMEOUT_S), "-o", settings, "start"));
        started = true;
      } catch (err) {
        if (attempt >= PORT_ATTEMPTS) throw err;
      }
    }
    const base = `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}`;
    const admin = new Bun.SQL(`${base}/postgres`, { max: 1 });
    await admin.unsafe(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    await admin.close();
    const url = `${base}/${encodeURIComponent(database)}`;
    writeFileSync(urlFile, url + "\n", { mode: 0o600 });
    let stopped = false;
    return {
      url,
      urlFile,
      port,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        process.removeListener("exit", stopNow);
        stopNow();
      },
    };
  } catch (err) {
    process.removeListener("exit", stopNow);
    stopNow();
    throw err;
  }
}

if (import.meta.main) {
  const pg = await startThrowawayPostgres();
  console.log(`PostgreSQL on 127.0.0.1:${pg.port}; connection URL (with its password) in ${pg.urlFile}; Ctrl-C stops and removes it`);
  // Signal handlers do not keep a Bun process alive; this timer does, until a signal stops it all.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  const stop = () => {
    clearInterval(keepAlive);
    void pg.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
