/**
 * Container health check: healthy (exit 0) when the service accepts a TCP connection on its port, else 1. The
 * port is INLAY_PORT when set, else the `--port` of the container's main process (/proc/1/cmdline), else its
 * entry's default (directory 64, relay 6466); with a port chosen at random (`server` without --port) any
 * listening socket of the container counts, read from /proc/net/tcp and tcp6. So `HEALTHCHECK` needs no variable.
 */
import { readFileSync } from "node:fs";

/** How long the whole check may take. */
export const HEALTHCHECK_TIMEOUT_MS = 3_000;
/** The default ports of the entries that have a fixed one (relay.ts, directory.ts). */
const ENTRY_DEFAULT_PORTS: Record<string, number> = { directory: 64, relay: 6466 };
/** TCP state LISTEN in /proc/net/tcp. */
const TCP_LISTEN = "0A";

/**
 * The port to knock on for a main process started as `argv` (its cmdline), or 0 when it chose a random one.
 * @example portOf(["bun", "/app/server.js", "@alice", "--port", "6464"], {}) // 6464
 */
export function portOf(argv: string[], env: Record<string, string | undefined>): number {
  if (env.INLAY_PORT) return Number(env.INLAY_PORT);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--port") return Number(argv[i + 1]);
    if (a.startsWith("--port=")) return Number(a.slice("--port=".length));
  }
  const entry = /([a-z]+)\.[jt]s$/.exec(argv.find((a) => /\.[jt]s$/.test(a)) ?? "")?.[1] ?? "";
  return ENTRY_DEFAULT_PORTS[entry] ?? 0;
}

/** The ports in LISTEN state in the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningPorts(procNetTcp: string): number[] {
  const ports: number[] = [];
  for (const line of procNetTcp.split("\n").slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state === TCP_LISTEN && local) ports.push(parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
  }
  return ports;
}

const readOr = (file: string, fallback: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
};

async function accepts(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  setTimeout(() => process.exit(1), HEALTHCHECK_TIMEOUT_MS).unref();
  const argv = readOr("/proc/1/cmdline", "").split("\0").filter(Boolean);
  const port = portOf(argv, process.env);
  const candidates = port ? [port] : [...listeningPorts(readOr("/proc/net/tcp", "")), ...listeningPorts(readOr("/proc/net/tcp6", ""))];
  for (const p of candidates) if (await accepts(p)) process.exit(0);
  if (candidates.length === 0) console.error("healthcheck: no listening port found (set INLAY_PORT to the service's port)");
  process.exit(1);
}
