/**
 * RSS of a hosting process with N idle provisioned @signs (run by hand):
 *   bun test/hosting/measure_rss.ts [N...]        e.g. bun test/hosting/measure_rss.ts 100 1000
 * For each N: provisions N @signs through the API of a child `bun server.ts --hosted DIR` (timed), restarts the
 * child (every store closed, one listening socket per @sign), waits for it to settle and reads its VmRSS; then one
 * owner connection to each of the first 10 (their stores opened) and reads it again.
 */
import { readFileSync } from "node:fs";
import { startChildHosting, type ChildHosting } from "./child_hosting.ts";
import type { Created } from "./hosting_fixture.ts";

/** Provisioning calls in flight at once. */
const PARALLEL_CREATES = 4;
/** Tries per @sign (a directory registration can time out on a loaded machine; create is refused cleanly then). */
const CREATE_TRIES = 3;
/** Time (ms) the restarted child is left alone before its RSS is read. */
const SETTLE_MS = 3_000;

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function createWithRetry(h: ChildHosting, atSign: string): Promise<Created> {
  for (let i = 1; ; i++) {
    try {
      return await h.create(atSign);
    } catch (err) {
      if (i === CREATE_TRIES) throw err;
      console.error(`retrying ${atSign}: ${(err as Error).message}`);
    }
  }
}

async function measure(n: number): Promise<void> {
  const h = await startChildHosting();
  try {
    const pid = () => h.proc()!.pid;
    const empty = rssMiB(pid());
    const t0 = performance.now();
    const created: Created[] = [];
    for (let i = 0; i < n; i += PARALLEL_CREATES) {
      const batch = Array.from({ length: Math.min(PARALLEL_CREATES, n - i) }, (_, j) => createWithRetry(h, `@rss${i + j}`));
      created.push(...(await Promise.all(batch)));
    }
    const provisionS = (performance.now() - t0) / 1000;
    await h.kill9();
    const t1 = performance.now();
    await h.start();
    const startS = (performance.now() - t1) / 1000;
    await Bun.sleep(SETTLE_MS);
    const idle = rssMiB(pid());
    const clients = await Promise.all(created.slice(0, 10).map((t) => h.owner(t)));
    const warm = rssMiB(pid());
    for (const c of clients) c.close();
    console.log(
      `N=${n}: provisioning ${provisionS.toFixed(1)} s (${((provisionS * 1000) / n).toFixed(1)} ms each); restart ${startS.toFixed(2)} s; ` +
        `RSS empty ${empty.toFixed(1)} MiB, ${n} idle ${idle.toFixed(1)} MiB (${(((idle - empty) * 1024) / n).toFixed(1)} KiB per @sign), 10 of them open ${warm.toFixed(1)} MiB`,
    );
  } finally {
    await h.stop();
  }
}

for (const n of (process.argv.length > 2 ? process.argv.slice(2) : ["100", "1000"]).map(Number)) await measure(n);
