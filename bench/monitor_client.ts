/**
 * A monitor connection for measuring notifications (the SDK's AtConnection matches answers to requests, so it
 * cannot carry the unsolicited `notification: {json}` lines): TLS through the client's link, CRAM as the
 * owner, `monitor`, then one callback per notification, in arrival order.
 */
import { connectTls, type TlsLink, type TlsTarget } from "../client/connection/tls_link.ts";
import { stripPrompt } from "../client/connection/parse_response.ts";
import { cramDigest } from "../core/crypto/index.ts";
import { newLineBuffer, pushChunk } from "../core/net/line_buffer.ts";
import { MAX_REQUEST_BYTES } from "../core/wire/limits.ts";

/** Deadline for connect + handshake + authentication. */
const MONITOR_CONNECT_TIMEOUT_MS = 10_000;
const NOTIFICATION_PREFIX = "notification: ";

/** The fields of a monitor notification the bench reads. */
export interface MonitorNotification {
  id: string;
  from: string;
  key: string;
  value: string | null;
  metadata: { ivNonce?: string | null } | null;
}

/** A live monitor; `close()` ends it. */
export interface MonitorConn {
  /** Why the connection ended (the server may drop a monitor that falls behind), or null while open. */
  closedReason(): string | null;
  close(): void;
}

/** Authenticates as `atSign` with CRAM, starts `monitor`, and calls `onNotification` for each line. */
export async function openMonitor(target: TlsTarget, atSign: string, cramSecret: string, onNotification: (n: MonitorNotification) => void): Promise<MonitorConn> {
  const lines = newLineBuffer(MAX_REQUEST_BYTES);
  let next: ((line: string) => void) | undefined;
  let link: TlsLink | undefined;
  let closedReason: string | null = null;
  const answer = () => new Promise<string>((resolve) => (next = resolve));
  link = await connectTls(
    target,
    {
      data(chunk) {
        for (const raw of pushChunk(lines, chunk)) {
          const line = stripPrompt(raw);
          const i = line.indexOf(NOTIFICATION_PREFIX);
          if (i >= 0) onNotification(JSON.parse(line.slice(i + NOTIFICATION_PREFIX.length)) as MonitorNotification);
          else next?.(line);
        }
      },
      closed: (reason) => {
        closedReason = reason;
        next?.("error:closed");
      },
    },
    MONITOR_CONNECT_TIMEOUT_MS,
  );
  const ask = async (line: string) => {
    const r = answer();
    link!.write(`${line}\n`);
    return r;
  };
  const challenge = await ask(`from:${atSign}`);
  if (!challenge.startsWith("data:")) throw new Error(`from:${atSign} answered ${challenge}`);
  const auth = await ask(`cram:${cramDigest(cramSecret, challenge.slice(5))}`);
  if (auth !== "data:success") throw new Error(`CRAM as ${atSign} answered ${auth}`);
  // `monitor` has no answer; the noop's answer comes after it, so the monitor is registered once it arrives.
  link.write("monitor\n");
  const ok = await ask("noop:0");
  if (ok !== "data:ok") throw new Error(`noop after monitor answered ${ok}`);
  return { closedReason: () => closedReason, close: () => link?.close() };
}
