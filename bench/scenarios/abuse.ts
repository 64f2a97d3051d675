/**
 * `abuse` (issue 13): what the owner sees while strangers attack, next to what it sees when all is quiet. The
 * owner's request is a whole visit: on the atServer a TLS connect, CRAM and one llookup; on the directory a
 * connect and one lookup; on the relay one pairing of two legs (its key looked up through the directory). The
 * attacks run from loopback addresses of another /24 than the owner's (127.0.1.1-4: a stranger's network, so
 * the per-address and per-prefix budgets both apply), bounded in count and time:
 *  - slowloris: connections that take their prompt, then drip one byte per drip interval, reopened when closed;
 *  - strangers pipelining catastrophic scan regexes (`scan (.*.*.*)*Z`), run last (they may hold the server);
 *  - AUTH frames naming random @signs with signatures of the right shape, from many connections at once.
 * Each attack runs in its own process (bench/abuse_attacks.ts via fixtures/abuse_attacker.ts) on the load
 * generator's CPU, so the services' CPU is theirs and the owner's client has an event loop of its own.
 * Target: the owner's p99 under attack at most 3× the quiet p99, and every owner request answered.
 */
import { fileURLToPath } from "node:url";
import { cramAuthenticate } from "../../client/auth/authenticate.ts";
import { AtConnection } from "../../client/connection/at_connection.ts";
import type { TlsTarget } from "../../client/connection/tls_link.ts";
import { generateRsaKeyPair } from "../../core/crypto/rsa.ts";
import type { AtSignSigningKey } from "../../core/crypto/tunnel/at_sign_signature.ts";
import { dialRelay } from "../../core/relay/dial_relay.ts";
import type { BenchContext } from "../context.ts";
import { openDirectoryConn } from "../directory_client.ts";
import { freePort } from "../peers.ts";
import type { Scenario, Target } from "../scenario.ts";
import { requireEntry, serviceEnv, startDirectoryChild, startServerChild } from "../services.ts";

const OWNER = "@abuseowner";
const RELAY = "@abuserelay";
/** One owner visit longer than this counts as unanswered (and is recorded at this latency). */
const VISIT_TIMEOUT_MS = { full: 10_000, quick: 2_000 };
/** Keys the owner stores, so scans have something to match against. */
const OWNER_KEYS = 20;
/** A running attack: a child process (fixtures/abuse_attacker.ts) that says what it did when stopped. */
interface Attack {
  stop(): Promise<string>;
}

const ATTACKER = fileURLToPath(new URL("../fixtures/abuse_attacker.ts", import.meta.url));
/** Attackers are load generators: on CPU 0 with the bench (bench/cpu_placement.ts), not with the services. */
const ON_LOAD_GENERATOR_CPU = Bun.which("taskset") ? ["taskset", "-c", "0"] : [];

/** Starts `bun fixtures/abuse_attacker.ts KIND HOST PORT ARGS...` and waits until it attacks. */
async function spawnAttack(ctx: BenchContext, kind: string, target: { host: string; port: number }, ...args: (string | number)[]): Promise<Attack> {
  const child = await ctx.spawn([...ON_LOAD_GENERATOR_CPU, process.execPath, ATTACKER, kind, target.host, String(target.port), ...args.map(String)], { ready: /^attacking/m });
  return {
    async stop() {
      await child.stop();
      return /done: (.*)/.exec(child.outputTail())?.[1] ?? "no summary";
    },
  };
}

interface Phase {
  id: string;
  label: string;
}

/** Visits before a quiet phase that are not recorded (first connections load CAs and compile code). */
const WARMUP_VISITS = 3;

/** Runs `visit` one after another for the phase (count or time, whichever ends first); records p99 and misses. */
async function ownerVisits(ctx: BenchContext, phase: Phase, visit: () => Promise<unknown>): Promise<void> {
  const timeoutMs = ctx.pick(VISIT_TIMEOUT_MS.full, VISIT_TIMEOUT_MS.quick);
  const rec = ctx.latency();
  let unanswered = 0;
  const r = await ctx.loop({ count: ctx.pick(100, 15), ms: ctx.pick(15_000, 1_500) }, async () => {
    const t = Bun.nanoseconds();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), timeoutMs)));
    try {
      await Promise.race([visit(), timedOut]);
    } catch {
      unanswered++;
    } finally {
      clearTimeout(timer);
    }
    rec.recordSince(t);
  });
  const h = rec.summary();
  ctx.metric({ id: `${phase.id}_p99`, label: `owner p99, ${phase.label} (${r.count} visits)`, value: h.p99, unit: "µs", histogram: h });
  ctx.metric({ id: `${phase.id}_unanswered`, label: `owner visits unanswered, ${phase.label}`, value: unanswered, unit: "visits" });
}

/** The owner's visit to its atServer: connect, CRAM, one llookup, close. */
async function serverVisit(target: TlsTarget, secret: string): Promise<void> {
  const conn = await AtConnection.open(target);
  try {
    await cramAuthenticate(conn, OWNER, secret);
    const r = await conn.request(`llookup:public:k0.abuse${OWNER}`);
    if (!r.ok) throw new Error(`llookup failed: ${r.code}`);
  } finally {
    conn.close();
  }
}

async function directoryVisit(target: TlsTarget): Promise<void> {
  const conn = await openDirectoryConn(target);
  try {
    if ((await conn.lookup(OWNER.slice(1))) === "null") throw new Error(`the directory does not know ${OWNER}`);
  } finally {
    conn.close();
  }
}

/** One pairing on the relay: both legs are the owner's (a tunnel to itself), then both close. */
async function relayVisit(relay: { host: string; port: number }, key: AtSignSigningKey): Promise<void> {
  const sessionId = crypto.randomUUID();
  const leg = (side: "a" | "b") =>
    dialRelay({ host: relay.host, port: relay.port, sessionId, side, atSign: OWNER, peerAtSign: OWNER, key, relayAtSign: RELAY, handlers: { data() {} } });
  const legs = await Promise.allSettled([leg("a"), leg("b")]);
  for (const l of legs) if (l.status === "fulfilled") l.value.end();
  const failed = legs.find((l) => l.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** Runs the owner's visits for `phase` while `attack` runs, then stops the attack and notes what it did. */
async function underAttack(ctx: BenchContext, phase: Phase, start: () => Promise<Attack>, visit: () => Promise<unknown>, settleMs: number): Promise<void> {
  ctx.progress(phase.label);
  const attack = await start();
  let summary = "stopped early";
  try {
    await Bun.sleep(settleMs);
    await ownerVisits(ctx, phase, visit);
  } finally {
    summary = await attack.stop();
  }
  ctx.note(`${phase.label}: ${summary}`);
}

const PHASES = {
  serverQuiet: { id: "server_quiet", label: "atServer, quiet" },
  serverSlowloris: { id: "server_slowloris", label: "atServer, slowloris" },
  serverScan: { id: "server_scan", label: "atServer, strangers pipelining catastrophic scans" },
  directoryQuiet: { id: "directory_quiet", label: "directory, quiet" },
  directorySlowloris: { id: "directory_slowloris", label: "directory, slowloris" },
  relayQuiet: { id: "relay_quiet", label: "relay pairing, quiet" },
  relayFlood: { id: "relay_flood", label: "relay pairing, AUTH flood with random @signs" },
} satisfies Record<string, Phase>;

const quiet: Record<string, Phase> = {
  serverSlowloris: PHASES.serverQuiet,
  serverScan: PHASES.serverQuiet,
  directorySlowloris: PHASES.directoryQuiet,
  relayFlood: PHASES.relayQuiet,
};

function abuseTargets(): Target[] {
  const targets: Target[] = [];
  for (const [attack, base] of Object.entries(quiet)) {
    const p = PHASES[attack as keyof typeof PHASES];
    targets.push({ metric: `${p.id}_p99`, op: "<=", value: { metric: `${base.id}_p99`, factor: 3 }, source: "issue 13" });
    targets.push({ metric: `${p.id}_unanswered`, op: "<=", value: 0, unit: "visits", source: "issue 13" });
  }
  return targets;
}

/** Starts the directory, the owner's atServer (registered, with keys to scan and a public key) and `bun relay.ts`. */
async function startWorld(ctx: BenchContext) {
  const home = ctx.tempDir();
  const secret = crypto.randomUUID().replaceAll("-", "");
  ctx.progress("starting the directory, the owner's atServer and the relay");
  const directory = await startDirectoryChild(ctx, home);
  const server = await startServerChild(ctx, home, OWNER, secret, directory);
  const pair = await generateRsaKeyPair();
  const owner = await AtConnection.open(server);
  try {
    await cramAuthenticate(owner, OWNER, secret);
    for (let i = 0; i < OWNER_KEYS; i++) await owner.request(`update:public:k${i}.abuse${OWNER} v${i}`);
    const r = await owner.request(`update:public:publickey${OWNER} ${pair.publicKey}`);
    if (!r.ok) throw new Error(`cannot publish the owner's public key: ${r.code} ${r.description}`);
  } finally {
    owner.close();
  }
  const relayChild = await ctx.spawn(
    [process.execPath, requireEntry("relay.ts"), RELAY, "--host", "127.0.0.1", "--port", "0", "--directory", `${directory.host}:${directory.port}`, "--admin-port", String(freePort())],
    { env: serviceEnv(home), ready: /relay listening on .*:(\d+)\s*$/ },
  );
  const relay = { host: "127.0.0.1", port: Number(relayChild.ready[1]) };
  const key: AtSignSigningKey = { algo: "rsa2048", privateKey: pair.privateKey };
  return { server, directory, relay, secret, key };
}

/** The `abuse` scenario. */
export const abuseScenario: Scenario = {
  name: "abuse",
  description: "owner p99 on the atServer, the directory and the relay while strangers attack (slowloris, catastrophic scans, AUTH flood), next to quiet",
  targets: abuseTargets(),
  async run(ctx) {
    const w = await startWorld(ctx);
    const dripMs = ctx.pick(1_000, 100);
    const settleMs = ctx.pick(2_000, 200);
    const server = () => serverVisit(w.server, w.secret);
    const directory = () => directoryVisit(w.directory);
    const relay = () => relayVisit(w.relay, w.key);

    ctx.progress("warming up");
    for (let i = 0; i < WARMUP_VISITS; i++) await Promise.all([server(), directory(), relay()]);
    ctx.progress(PHASES.serverQuiet.label);
    await ownerVisits(ctx, PHASES.serverQuiet, server);
    await underAttack(ctx, PHASES.serverSlowloris, () => spawnAttack(ctx, "slowloris", w.server, ctx.pick(200, 100), dripMs), server, settleMs);
    ctx.progress(PHASES.directoryQuiet.label);
    await ownerVisits(ctx, PHASES.directoryQuiet, directory);
    await underAttack(ctx, PHASES.directorySlowloris, () => spawnAttack(ctx, "slowloris", w.directory, ctx.pick(500, 300), dripMs), directory, settleMs);
    ctx.progress(PHASES.relayQuiet.label);
    await ownerVisits(ctx, PHASES.relayQuiet, relay);
    await underAttack(ctx, PHASES.relayFlood, () => spawnAttack(ctx, "authflood", w.relay, ctx.pick(64, 16), ctx.pick(50_000, 2_000), OWNER), relay, settleMs);
    // Last: a server stuck in a regex cannot be interrupted; the scenario's cleanup stops it.
    await underAttack(ctx, PHASES.serverScan, () => spawnAttack(ctx, "scan", w.server), server, settleMs);
  },
};
