/**
 * Shared data as the C SDK (at_c) writes it, read by our client: at_c creates the shared key with
 * `update:shared_key.bob@alice <wrapped for alice>` and `update:@bob:shared_key@alice <wrapped for bob>` (no
 * metadata) and stores the value with `update:ivNonce:<iv>:@bob:<key>@alice <ciphertext>`, never setting
 * isEncrypted. The Dart SDK decrypts such data with the shared key and keeps the stored text only when it
 * does not decrypt; so do we — on get, as owner and as recipient, and in the recipient's monitor.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { atSdkSuite, fromBase64, utf8 } from "../../core/crypto/index.ts";
import type { AtClient } from "../../client/index.ts";
import { collect, eventually, onboarded } from "../client_notify/fixture.ts";
import { startStack, type Stack } from "../harness.ts";

let stack: Stack;
let alice: AtClient;
let bob: AtClient;
let sharedKey: string;

/** The update line at_c's atclient_put_shared_key sends for `value` (fresh IV, ivNonce only). */
function cSdkSharedPut(key: string, value: string): string {
  const sealed = atSdkSuite.encrypt(sharedKey, utf8(value));
  expect(fromBase64(sealed.nonce!, "iv").byteLength).toBe(16);
  return `update:ivNonce:${sealed.nonce}:@bob:${key}@alice ${sealed.ciphertext}`;
}

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  [alice, bob] = await Promise.all([onboarded(stack, "@alice"), onboarded(stack, "@bob")]);
  // at_c's atclient_create_shared_encryption_key_pair_for_me_and_other, byte for byte in form.
  sharedKey = atSdkSuite.generateSymmetricKey();
  await alice.command(`update:shared_key.bob@alice ${atSdkSuite.wrapKey(sharedKey, alice.keys.encryptionPublicKey)}`);
  await alice.command(`update:@bob:shared_key@alice ${atSdkSuite.wrapKey(sharedKey, bob.keys.encryptionPublicKey)}`);
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await stack?.stop();
});

test("bob gets a value the C SDK shared (ivNonce, no isEncrypted) decrypted with the shared key", async () => {
  await alice.command(cSdkSharedPut("test.c", "hello from C"));
  const r = await bob.get("test.c@alice");
  expect(r.value).toBe("hello from C");
  expect(r.meta.isEncrypted).toBeFalsy();
});

test("alice, the owner, reads it back too", async () => {
  await alice.command(cSdkSharedPut("mine.c", "owner's copy"));
  expect((await alice.get("@bob:mine.c")).value).toBe("owner's copy");
});

test("an unmarked shared value that does not decrypt comes back as stored", async () => {
  await alice.command("update:@bob:plain.c@alice just text, never encrypted!");
  expect((await bob.get("plain.c@alice")).value).toBe("just text, never encrypted!");
  expect((await alice.get("@bob:plain.c")).value).toBe("just text, never encrypted!");
});

test("bob's monitor decrypts the automatic notification of such a write", async () => {
  const m = bob.monitor({ regex: "live\\.c" });
  try {
    await m.ready;
    const got = collect(m);
    await alice.command(cSdkSharedPut("live.c", "pushed from C"));
    await eventually(() => got.items.length >= 1, 20_000, "notification");
    expect(got.items[0]).toMatchObject({ key: "@bob:live.c@alice", value: "pushed from C", from: "@alice" });
    expect(got.items[0]!.decryptError).toBeUndefined();
  } finally {
    m.close();
  }
});
