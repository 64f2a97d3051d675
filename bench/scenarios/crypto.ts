/**
 * `crypto` (issue 3): what end-to-end encryption costs a client, per suite: encrypt + decrypt of 1 KiB and
 * 1 MiB values (MB/s of plaintext through both), and the shared-key setup per recipient (make a key, wrap it
 * for the recipient; the recipient unwraps it). The "direct" path is bare node:crypto AES-256-CTR on the same
 * bytes without the suite's text encoding: the cipher's own limit on this machine.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SUITES } from "../../core/crypto/index.ts";
import type { BenchContext } from "../context.ts";
import { DIRECT_PATH, type Scenario } from "../scenario.ts";

const VALUE_SIZES = [
  { name: "1 KiB", id: "1k", bytes: 1024 },
  { name: "1 MiB", id: "1m", bytes: 1024 * 1024 },
] as const;
const MB = 1e6;

async function throughput(ctx: BenchContext, bytes: number, op: () => void): Promise<number> {
  const ms = ctx.pick(1_000, 150);
  await ctx.loop({ ms: ms / 4 }, op); // warm-up (JIT, key schedule caches)
  const r = await ctx.loop({ ms }, op);
  return (r.perSecond * bytes) / MB;
}

/** The `crypto` scenario. */
export const cryptoScenario: Scenario = {
  name: "crypto",
  description: "value encrypt+decrypt MB/s (1 KiB, 1 MiB) and shared-key setup per recipient, per crypto suite",
  targets: [],
  async run(ctx) {
    for (const size of VALUE_SIZES) {
      const group = `encrypt+decrypt ${size.name}`;
      const plain = randomBytes(size.bytes);
      const key = randomBytes(32);
      const iv = randomBytes(16);
      ctx.progress(`${group}, bare AES-256-CTR`);
      const direct = await throughput(ctx, size.bytes, () => {
        const c = createCipheriv("aes-256-ctr", key, iv).update(plain);
        createDecipheriv("aes-256-ctr", key, iv).update(c);
      });
      ctx.metric({ id: `seal_open_${size.id}_direct`, label: `${group}, bare node:crypto AES-256-CTR`, value: direct, unit: "MB/s", group, path: DIRECT_PATH });
      for (const suite of Object.values(SUITES)) {
        ctx.progress(`${group}, ${suite.id}`);
        const k = suite.generateSymmetricKey();
        const value = await throughput(ctx, size.bytes, () => void suite.decrypt(k, suite.encrypt(k, plain)));
        ctx.metric({ id: `seal_open_${size.id}_${suite.id}`, label: `${group}, ${suite.id}`, value, unit: "MB/s", group, path: suite.id });
      }
    }
    for (const suite of Object.values(SUITES)) {
      ctx.progress(`shared-key setup, ${suite.id}`);
      const recipient = await suite.generateEncryptionKeyPair();
      const ms = ctx.pick(1_000, 150);
      let wrapped = suite.wrapKey(suite.generateSymmetricKey(), recipient.publicKey);
      const setup = await ctx.loop({ ms }, () => void (wrapped = suite.wrapKey(suite.generateSymmetricKey(), recipient.publicKey)));
      ctx.metric({ id: `share_setup_${suite.id}`, label: `shared-key setup per recipient (make + wrap), ${suite.id}`, value: setup.perSecond, unit: "ops/s", group: "shared-key setup", path: suite.id });
      const open = await ctx.loop({ ms }, () => void suite.unwrapKey(wrapped, recipient.privateKey));
      ctx.metric({ id: `share_open_${suite.id}`, label: `shared-key unwrap by the recipient, ${suite.id}`, value: open.perSecond, unit: "ops/s", group: "shared-key unwrap", path: suite.id });
    }
  },
};
