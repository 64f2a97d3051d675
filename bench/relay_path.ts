/**
 * The Inlay relay as a path for the load generator: a relay child process (bench/fixtures/relay_child.ts,
 * bundled by ops/build.ts and run with PRODUCTION_ENV, as the relay ships) and
 * a dialer that joins both legs of a fresh session with the real handshake (core/relay/dial_relay.ts). The
 * generator writes into leg a; leg b counts (streams) or echoes (ping-pong), like the sink and echo servers of
 * the direct path, in the same process.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PRODUCTION_ENV, buildEntries } from "../ops/build.ts";
import { generateEd25519KeyPair } from "../core/crypto/ed25519.ts";
import type { AtSignSigningKey } from "../core/crypto/tunnel/at_sign_signature.ts";
import { dialRelay, type RelayLegHandlers, type RelayLegSocket } from "../core/relay/dial_relay.ts";
import { flush, send } from "../core/net/write_queue.ts";
import type { BenchContext, Child } from "./context.ts";
import type { Endpoint } from "./loadgen.ts";

/** The relay's @sign in the bench, and the two @signs whose legs meet there. */
export const BENCH_RELAY_ATSIGN = "@benchrelay";
/** The two @signs whose legs meet on the bench relay (side a, side b). */
export const BENCH_LEG_ATSIGNS = ["@bencha", "@benchb"] as const;

/** A running relay child and the keys of the two bench @signs. */
export interface RelayPath {
  port: number;
  child: Child;
  keys: Record<(typeof BENCH_LEG_ATSIGNS)[number], AtSignSigningKey>;
  /** Their public keys (base64 SPKI), as the relay resolves them. */
  publicKeys: Record<(typeof BENCH_LEG_ATSIGNS)[number], string>;
  /** The JSON file of private keys (mode 0600) the idle-leg children sign with. */
  privateKeysFile: string;
}

/** Starts the relay child with freshly generated Ed25519 keys for the two bench @signs. */
export async function startRelayPath(ctx: BenchContext): Promise<RelayPath> {
  const [a, b] = await Promise.all([generateEd25519KeyPair(), generateEd25519KeyPair()]);
  const dir = ctx.tempDir("inlay-bench-relay-");
  const keysFile = join(dir, "keys.json");
  const privateKeysFile = join(dir, "private_keys.json");
  writeFileSync(keysFile, JSON.stringify({ [BENCH_LEG_ATSIGNS[0]]: a.publicKey, [BENCH_LEG_ATSIGNS[1]]: b.publicKey }), { mode: 0o600 });
  writeFileSync(privateKeysFile, JSON.stringify({ [BENCH_LEG_ATSIGNS[0]]: a.privateKey, [BENCH_LEG_ATSIGNS[1]]: b.privateKey }), { mode: 0o600 });
  const dist = join(dir, "dist");
  await buildEntries(dist, ["bench/fixtures/relay_child.ts"]);
  const child = await ctx.spawn([process.execPath, join(dist, "bench", "fixtures", "relay_child.js"), BENCH_RELAY_ATSIGN, keysFile], {
    env: { ...process.env, ...PRODUCTION_ENV },
    ready: /listening on .*:(\d+)\s*$/,
  });
  return {
    port: Number(child.ready[1]),
    child,
    privateKeysFile,
    keys: { "@bencha": { algo: "ed25519", privateKey: a.privateKey }, "@benchb": { algo: "ed25519", privateKey: b.privateKey } },
    publicKeys: { "@bencha": a.publicKey, "@benchb": b.publicKey },
  };
}

/** What leg b does with what leg a sent: hand it to a consumer (count it, decrypt it...), or send it back. */
export type FarEnd = { consume: (chunk: Uint8Array) => void } | "echo";

function legHandlers(on: Endpoint["on"]): RelayLegHandlers {
  return { data: (_s, c) => on.data?.(c), drain: () => on.drain?.(), close: () => on.close?.(), end: () => on.close?.() };
}

/** Joins one session (both legs) and returns leg a as an endpoint; leg b behaves as `far` says. */
export async function dialRelayPair(path: RelayPath, far: FarEnd): Promise<Endpoint> {
  const sessionId = crypto.randomUUID();
  const [atA, atB] = BENCH_LEG_ATSIGNS;
  const onA: Endpoint["on"] = {};
  const farHandlers: RelayLegHandlers =
    far === "echo"
      ? {
          data(s: RelayLegSocket, chunk) {
            const r = send(s, s.data.out, chunk);
            if (r === "queued" || r === "overflow") s.pause();
          },
          drain: (s) => void (flush(s, s.data.out) && s.resume()),
        }
      : { data: (_s, chunk) => far.consume(chunk) };
  const common = { host: "127.0.0.1", port: path.port, sessionId, relayAtSign: BENCH_RELAY_ATSIGN };
  const [a, b] = await Promise.all([
    dialRelay({ ...common, side: "a", atSign: atA, peerAtSign: atB, key: path.keys[atA], handlers: legHandlers(onA) }),
    dialRelay({ ...common, side: "b", atSign: atB, peerAtSign: atA, key: path.keys[atB], handlers: farHandlers }),
  ]);
  a.setNoDelay(true);
  b.setNoDelay(true);
  return {
    write: (bytes) => a.write(bytes),
    end() {
      a.end();
      b.end();
    },
    on: onA,
  };
}
