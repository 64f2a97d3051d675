import { afterAll, expect, test } from "bun:test";
import { newContext } from "./context.ts";
import { dialTcp, pingInterleaved, startEcho } from "./loadgen.ts";
import { detectPeers, PEER_APT_COMMAND, startHaproxy, startSocat } from "./peers.ts";
import { newProgress } from "./progress.ts";

const peers = detectPeers();
const echo = startEcho();
afterAll(() => echo.stop());

test("detectPeers() names every peer, and the apt command installs them all", () => {
  expect(Object.keys(peers).sort()).toEqual(["haproxy", "iperf3", "nginx", "socat"]);
  for (const name of Object.keys(peers)) expect(PEER_APT_COMMAND).toContain(name);
});

const forwarders = [
  { name: "haproxy", bin: peers.haproxy, start: startHaproxy },
  { name: "socat", bin: peers.socat, start: startSocat },
];
for (const f of forwarders) {
  test.skipIf(!f.bin)(`${f.name} forwards to the echo server, and cleanup stops it`, async () => {
    const handle = newContext("peers-test", { quick: true, progress: newProgress(process.stderr, false) });
    try {
      const fwd = await f.start(handle.ctx, f.bin!, echo.port);
      const recs = await pingInterleaved([{ name: f.name, dial: () => dialTcp(fwd.port) }], { rounds: 10, ms: 10_000 });
      expect(recs.get(f.name)!.count()).toBe(10);
      await handle.cleanup();
      expect(await fwd.child.exited).not.toBeNull();
    } finally {
      await handle.cleanup();
    }
  });
}
