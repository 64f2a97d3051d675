/**
 * One @sign's tunnel endpoint: its keys, an AtClient for sending (notify, public key lookups) and a control
 * channel whose monitor (the SDK's) runs on a second connection to the same atServer.
 */
import type { AtKeys } from "../../core/crypto/index.ts";
import { AtClient } from "../at_client.ts";
import type { HostPort } from "../connection/root_lookup.ts";
import { type NotificationChannel, notificationControlChannel } from "./control_channel.ts";

/** Where the network is. */
export interface EndpointOptions {
  keys: AtKeys;
  directory: HostPort;
  ca: string[];
  /** My atServer's address, skipping the directory. */
  address?: HostPort;
  /** The device name the channel listens for. */
  device: string;
  onRejected?(from: string, sid: string | null, reason: string): void;
}

/** A connected endpoint. */
export interface Endpoint {
  client: AtClient;
  keys: AtKeys;
  channel: NotificationChannel;
  close(): void;
}

/** An endpoint whose client is authenticating and whose monitor is attaching (`ready`). */
export interface StartingEndpoint extends Endpoint {
  ready: Promise<void>;
}

/**
 * Authenticates the client and attaches the monitor; resolves once both are ready.
 * @example const ep = await openEndpoint({ keys, directory, ca, device: "default" });
 */
export async function openEndpoint(opts: EndpointOptions): Promise<Endpoint> {
  const ep = startEndpoint(opts);
  await ep.ready;
  return ep;
}

/**
 * Starts connecting without waiting, so lookups that need no authentication (the relay's address, the peer's
 * public key) can run meanwhile; `ready` rejects (after closing everything) if either connection fails.
 */
export function startEndpoint(opts: EndpointOptions): StartingEndpoint {
  const client = AtClient.fromKeys(opts.keys, { directory: opts.directory, ca: opts.ca, ...(opts.address ? { address: opts.address } : {}) });
  const channel = notificationControlChannel({ client, keys: opts.keys, device: opts.device, ...(opts.onRejected ? { onRejected: opts.onRejected } : {}) });
  const close = () => {
    channel.close();
    client.close();
  };
  const ready = Promise.all([client.authenticate(), channel.ready]).then(
    () => {},
    (e: unknown) => {
      close();
      throw e;
    },
  );
  return { client, keys: opts.keys, channel, ready, close };
}
