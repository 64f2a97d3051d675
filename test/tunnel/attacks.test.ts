/**
 * What the daemon refuses on the control plane and on the session leg: a control message with a wrong signature
 * or replayed, an offer signed by the wrong key, an offer replayed from another session, a stream leg of another
 * session. Everything through the real relay and servers; the attacker is @bob's own client misbehaving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateRsaKeyPair, type KeyPairText } from "../../core/crypto/index.ts";
import { createTunnelOffer, type PendingTunnel } from "../../core/crypto/tunnel/handshake.ts";
import { controlKeyName } from "../../client/tunnel/control_channel.ts";
import { type ControlMessage, sealControl } from "../../client/tunnel/control_message.ts";
import { type Endpoint, openEndpoint } from "../../client/tunnel/endpoint.ts";
import { openSessionLink } from "../../client/tunnel/session_link.ts";
import { type TunnelWorld, startTunnelWorld, until } from "./fixture.ts";

let w: TunnelWorld;
let wrongKey: KeyPairText;
beforeAll(async () => {
  [w, wrongKey] = await Promise.all([startTunnelWorld(), generateRsaKeyPair()]);
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

/** Sends an already sealed envelope as @bob's notification. */
async function sendRaw(ep: Endpoint, msg: ControlMessage, value: string): Promise<void> {
  await ep.client.notify("@device", controlKeyName(msg, "default"), value, { encrypt: false });
}

/** The next ack for `sid` on @bob's channel. */
async function ackFor(ep: Endpoint, sid: string): Promise<Extract<ControlMessage, { t: "ack" }>> {
  for await (const { msg } of ep.channel.messages()) if (msg.t === "ack" && msg.sid === sid) return msg;
  throw new Error("channel closed");
}

function request(sid: string): Extract<ControlMessage, { t: "request" }> {
  return { t: "request", sid, device: "default", target: `127.0.0.1:${w.echo.port}`, relay: `127.0.0.1:${w.relay.port}`, relayAtSign: "@relay" };
}

const bobKey = () => ({ algo: "rsa2048" as const, privateKey: w.keys.get("@bob")!.encryptionPrivateKey });
const devicePub = () => w.keys.get("@device")!.encryptionPublicKey;

describe("control plane", () => {
  test("a request signed with the wrong key is refused with the reason", async () => {
    const d = await w.daemon();
    const ep = await openEndpoint({ keys: w.keys.get("@bob")!, directory: w.directory, ca: [w.stack.ca], device: "default" });
    try {
      const msg = request(crypto.randomUUID());
      const value = sealControl(msg, { from: "@bob", to: "@device", signingKey: wrongKey.privateKey, recipientPublicKey: devicePub() });
      const acking = ackFor(ep, msg.sid);
      await sendRaw(ep, msg, value);
      const ack = await acking;
      expect(ack.ok).toBe(false);
      expect(ack.reason).toMatch(/signature does not verify for @bob/);
      expect(d.daemon.counts().sessions).toBe(0);
    } finally {
      ep.close();
      d.stop();
    }
  }, 30_000);

  test("a replayed request envelope is refused as replayed", async () => {
    const d = await w.daemon();
    const ep = await openEndpoint({ keys: w.keys.get("@bob")!, directory: w.directory, ca: [w.stack.ca], device: "default" });
    try {
      // A request for a session nobody dials: the daemon accepts it (and its relay leg waits unpaired).
      const msg = request(crypto.randomUUID());
      const value = sealControl(msg, { from: "@bob", to: "@device", signingKey: w.keys.get("@bob")!.encryptionPrivateKey, recipientPublicKey: devicePub() });
      await sendRaw(ep, msg, value);
      await until(() => d.daemon.counts().sessions === 1, 10_000, "request accepted");
      const second = ackFor(ep, msg.sid);
      await sendRaw(ep, msg, value);
      const ack = await second;
      expect(ack.ok).toBe(false);
      expect(ack.reason).toMatch(/replayed/);
    } finally {
      ep.close();
      d.stop();
    }
  }, 30_000);
});

describe("session leg", () => {
  /** Sends a valid request for `sid`, then dials the session leg with `offer` (made for some session). */
  async function attempt(sid: string, offer: PendingTunnel): Promise<string> {
    const ep = await openEndpoint({ keys: w.keys.get("@bob")!, directory: w.directory, ca: [w.stack.ca], device: "default" });
    try {
      await ep.channel.send("@device", request(sid));
      const link = await openSessionLink({
        leg: { host: "127.0.0.1", port: w.relay.port, sessionId: sid, side: "a", atSign: "@bob", peerAtSign: "@device", key: bobKey(), relayAtSign: "@relay" },
        mine: offer,
        peerPublicKey: devicePub(),
        onMessage: () => {},
      });
      // Our check of the device's offer passed; the device must refuse ours and close the leg.
      return await link.closed;
    } catch (e) {
      return String(e);
    } finally {
      ep.close();
    }
  }

  test("an offer signed with the wrong key: the device closes the session", async () => {
    const d = await w.daemon();
    try {
      const sid = crypto.randomUUID();
      const bad = createTunnelOffer({ sessionId: sid, role: "initiator", atSign: "@bob", peerAtSign: "@device", key: { algo: "rsa2048", privateKey: wrongKey.privateKey } });
      expect(await attempt(sid, bad)).toMatch(/closed|ended/);
      await until(() => d.daemon.counts().sessions === 0, 10_000, "daemon session gone");
    } finally {
      d.stop();
    }
  }, 30_000);

  test("an offer replayed from another session: the device closes the session", async () => {
    const d = await w.daemon();
    try {
      const old = createTunnelOffer({ sessionId: crypto.randomUUID(), role: "initiator", atSign: "@bob", peerAtSign: "@device", key: bobKey() });
      const sid = crypto.randomUUID();
      // Our own side also refuses the device's offer (it names the new session); either way nothing opens.
      expect(await attempt(sid, old)).toMatch(/closed|ended|another session/);
      await until(() => d.daemon.counts().sessions === 0, 10_000, "daemon session gone");
    } finally {
      d.stop();
    }
  }, 30_000);

  test("a genuine offer opens the session (control for the two above)", async () => {
    const d = await w.daemon();
    try {
      const sid = crypto.randomUUID();
      const good = createTunnelOffer({ sessionId: sid, role: "initiator", atSign: "@bob", peerAtSign: "@device", key: bobKey() });
        const ep = await openEndpoint({ keys: w.keys.get("@bob")!, directory: w.directory, ca: [w.stack.ca], device: "default" });
      try {
        await ep.channel.send("@device", request(sid));
        const link = await openSessionLink({
          leg: { host: "127.0.0.1", port: w.relay.port, sessionId: sid, side: "a", atSign: "@bob", peerAtSign: "@device", key: bobKey(), relayAtSign: "@relay" },
          mine: good,
          peerPublicKey: devicePub(),
          onMessage: () => {},
        });
        await until(() => d.daemon.counts().sessions === 1, 10_000, "daemon session up");
        link.close();
        await until(() => d.daemon.counts().sessions === 0, 10_000, "daemon session gone");
      } finally {
        ep.close();
      }
    } finally {
      d.stop();
    }
  }, 30_000);
});
