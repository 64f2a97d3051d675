/**
 * A keystore lost after onboarding must not make the @sign onboardable again with its old CRAM secret (issue 13,
 * item 7): onboarding writes DATA/onboarded (0600); a start on an empty (truncated to 0 bytes) or unreadable
 * keystore of a marked @sign is refused with one line saying how to restore or reset, and `bun server.ts` exits
 * non-zero; `resetOnboarding` (--reset-onboarding) accepts the loss and rotates the CRAM secret.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { startServer, type ServerOptions } from "../server/index.ts";
import { KEYSTORE_FILE, ONBOARDED_MARKER_FILE } from "../server/onboarded_marker.ts";
import { onboardManager } from "./enroll/wire_enroll.ts";
import { cramAuth, type ServerFixture } from "./server_fixture.ts";
import { connectWire } from "./wire_client.ts";

const ENTRY = join(import.meta.dir, "..", "server.ts");
let home: string;
let base: ServerOptions;
let ca: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "inlay-marker-"));
  const tls = await serviceTls({ home });
  ca = tls.ca!;
  // No cramSecret: the server generates DATA/cram.secret, as `bun server.ts` does.
  base = { atSign: "@marked", host: "127.0.0.1", port: 0, dataDir: join(home, "data"), tls: { key: tls.key, cert: tls.cert } };
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Onboards @marked through enroll:request on a CRAM connection (onboardManager only needs connectOwner). */
async function onboard(): Promise<void> {
  const server = await startServer(base);
  const connectOwner = async () => {
    const c = await connectWire(server.port, ca);
    if ((await cramAuth(c, "@marked", server.cramSecret)) !== "data:success") throw new Error("cram failed");
    return c;
  };
  try {
    await onboardManager({ connectOwner } as Pick<ServerFixture, "connectOwner"> as ServerFixture);
    expect(server.onboarded()).toBe(true);
  } finally {
    await server.stop();
  }
}

/** Empties the store the way the tester did: the file truncated to 0 bytes (its WAL with it). */
function truncateStore(): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    const file = join(base.dataDir, KEYSTORE_FILE + suffix);
    if (existsSync(file)) truncateSync(file, 0);
  }
}

test("onboarding writes a 0600 marker; an empty store of the onboarded @sign is refused until reset", async () => {
  await onboard();
  const marker = join(base.dataDir, ONBOARDED_MARKER_FILE);
  expect(statSync(marker).mode & 0o777).toBe(0o600);
  expect(readFileSync(marker, "utf8")).toStartWith("@marked onboarded ");
  const oldSecret = readFileSync(join(base.dataDir, "cram.secret"), "utf8").trim();

  truncateStore();
  const refused = await startServer(base).then(
    (s) => s.stop().then(() => "started"),
    (err: Error) => err.message,
  );
  expect(refused).toContain("is onboarded");
  expect(refused).toContain("is empty: restore");
  expect(refused).toContain("--reset-onboarding");
  expect(refused).not.toContain("\n");

  // `bun server.ts` turns it into one line on stderr and exit 1.
  const entry = Bun.spawnSync(["bun", ENTRY, "@marked", "--host", "127.0.0.1", "--data", base.dataDir], { env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "silent" } });
  expect(entry.exitCode).toBe(1);
  const stderr = entry.stderr.toString().trim().split("\n").filter((l) => !l.startsWith("warning:"));
  expect(stderr).toHaveLength(1);
  expect(stderr[0]).toContain("restore");

  // The reset accepts the loss: onboardable again, with a new CRAM secret.
  const reset = await startServer({ ...base, resetOnboarding: true });
  try {
    expect(reset.onboarded()).toBe(false);
    expect(reset.cramSecret).not.toBe(oldSecret);
    expect(existsSync(marker)).toBe(false);
    const c = await connectWire(reset.port, ca);
    expect(await cramAuth(c, "@marked", oldSecret)).toStartWith("error:AT0401");
    c.close();
  } finally {
    await reset.stop();
  }
}, 30_000);

test("an unreadable store of an onboarded @sign is refused with the same advice", async () => {
  await onboard();
  writeFileSync(join(base.dataDir, KEYSTORE_FILE), "this is not a sqlite database, just bytes in its place".repeat(100));
  for (const suffix of ["-wal", "-shm"]) rmSync(join(base.dataDir, KEYSTORE_FILE + suffix), { force: true });
  const refused = await startServer(base).then(
    (s) => s.stop().then(() => "started"),
    (err: Error) => err.message,
  );
  expect(refused).toContain("is unreadable");
  expect(refused).toContain("restore");
});
