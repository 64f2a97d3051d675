/**
 * Where control messages travel. `ControlChannel` is the small interface the daemon and the tunnel client use;
 * `notificationControlChannel` is the production one: each message is an atProtocol key notification
 * `@to:<kind>.<sid>.<device>.tunnels@from` whose value is the sealed envelope (control_message.ts), sent through
 * my atServer (`notify`), and received by the SDK's monitor on my own atServer (AtClient.monitor).
 *
 * The envelope is already signed and encrypted, so it is sent with `encrypt: false` (marked isEncrypted:false):
 * sealing it again under the per-recipient shared key would add nothing but a key write on first contact, on the
 * tunnel's critical path, and the monitor hands such a value over as is.
 */
import { logger } from "../../core/log.ts";
import type { AtKeys } from "../../core/crypto/index.ts";
import type { AtClient } from "../at_client.ts";
import { type ControlMessage, ControlMessageError, newSeenIds, openControl, sealControl } from "./control_message.ts";

/** Received messages waiting for the consumer; past it the oldest is dropped (a flood cannot grow memory). */
export const CONTROL_INBOX_MAX_MESSAGES = 1_000;
/** How long an undelivered control notification lives (it is useless after the message age window). */
export const CONTROL_NOTIFICATION_TTL_MS = 60_000;
/** The namespace of every tunnel notification. */
export const TUNNEL_NAMESPACE = "tunnels";

const log = logger("tunnel-control");

/** A received, verified control message. */
export interface ControlEnvelope {
  from: string;
  msg: ControlMessage;
}

/** How control messages reach the peer and come back. */
export interface ControlChannel {
  send(to: string, msg: ControlMessage): Promise<void>;
  messages(): AsyncIterable<ControlEnvelope>;
  close(): void;
}

/** What the notification channel needs. */
export interface NotificationChannelOptions {
  client: AtClient;
  keys: AtKeys;
  /** Only notifications for this device name are taken (daemon: its --name; requester: the device it talks to). */
  device: string;
  /** Called for a notification that failed verification; `sid` is taken from its key name (unverified). */
  onRejected?(from: string, sid: string | null, reason: string): void;
}

/** A channel with its monitor running. */
export interface NotificationChannel extends ControlChannel {
  /** Resolves once the monitor is attached (messages sent to me after this are seen). */
  ready: Promise<void>;
}

/** The notification key name of a message (without recipient and sender). */
export function controlKeyName(msg: ControlMessage, device: string): string {
  const sid = "sid" in msg ? msg.sid : msg.pid;
  return `${msg.t}.${sid}.${device}.${TUNNEL_NAMESPACE}`;
}

/**
 * Starts the production channel.
 * @example const ch = notificationControlChannel({ client, keys, resolver, ca, device: "default" }); await ch.ready;
 */
export function notificationControlChannel(opts: NotificationChannelOptions): NotificationChannel {
  const me = opts.client.atSign;
  const seen = newSeenIds();
  const inbox: ControlEnvelope[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  const keyRe = new RegExp(`^@[^:]+:([a-z]+)\\.([A-Za-z0-9-]+)\\.${escapeRe(opts.device)}\\.${TUNNEL_NAMESPACE}@`);

  // Verification needs the sender's public key (a lookup): keep arrival order with one chain.
  let chain = Promise.resolve();
  const onNotification = (n: { from: string; key: string; value: string | null }) => {
    const m = keyRe.exec(n.key);
    if (!m || n.value === null) return;
    const sid = m[2]!;
    chain = chain.then(async () => {
      try {
        const senderPublicKey = await opts.client.publicKeyOf(n.from);
        const msg = openControl(n.value!, { me, from: n.from, decryptionKey: opts.keys.encryptionPrivateKey, senderPublicKey, seen });
        if (inbox.length >= CONTROL_INBOX_MAX_MESSAGES) inbox.shift();
        inbox.push({ from: n.from, msg });
        wake?.();
      } catch (e) {
        const reason = e instanceof ControlMessageError ? e.message : `cannot verify: ${(e as Error).message}`;
        log.warn("control message refused", { from: n.from, reason });
        opts.onRejected?.(n.from, sid, reason);
      }
    });
  };

  const monitor = opts.client.monitor({
    regex: `\\.${escapeRe(opts.device)}\\.${TUNNEL_NAMESPACE}@`,
    since: Date.now(),
    // Losing the monitor is worth a warning; getting it back is news, not a problem.
    onStatus: (status, detail) => {
      if (status === "reconnected") log.info("monitor reconnected", { detail });
      else if (status !== "connected") log.warn(`monitor ${status}`, { detail });
    },
  });
  void (async () => {
    for await (const n of monitor) onNotification(n);
  })().catch((e: unknown) => log.error("monitor failed", { error: String(e) }));

  return {
    ready: monitor.ready,
    async send(to, msg) {
      const value = sealControl(msg, { from: me, to, signingKey: opts.keys.encryptionPrivateKey, recipientPublicKey: await opts.client.publicKeyOf(to) });
      await opts.client.notify(to, controlKeyName(msg, opts.device), value, { encrypt: false, ttln: CONTROL_NOTIFICATION_TTL_MS });
    },
    async *messages() {
      while (!closed) {
        const next = inbox.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    },
    close() {
      closed = true;
      monitor.close();
      wake?.();
    },
  };
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
