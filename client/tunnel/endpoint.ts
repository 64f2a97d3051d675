/**
 * One @sign's tunnel endpoint: its keys, an AtClient for sending (notify, public key lookups) and a control
 * channel whose monitor runs on a second connection to the same atServer.
 */
import type { AtKeys } from "../../core/crypto/index.ts";
import { AtClient } from "../at_client.ts";
import { type HostPort, rootResolver } from "../connection/root_lookup.ts";
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

/**
 * Authenticates the client and attaches the monitor; resolves once both are ready.
 * @example const ep = await openEndpoint({ keys, directory, ca, device: "default" });
 */
export async function openEndpoint(opts: EndpointOptions): Promise<Endpoint> {
  const client = AtClient.fromKeys(opts.keys, { directory: opts.directory, ca: opts.ca, ...(opts.address ? { address: opts.address } : {}) });
  const channel = notificationControlChannel({
    client,
    keys: opts.keys,
    resolver: rootResolver(opts.directory, opts.ca),
    ca: opts.ca,
    device: opts.device,
    ...(opts.address ? { address: opts.address } : {}),
    ...(opts.onRejected ? { onRejected: opts.onRejected } : {}),
  });
  try {
    await Promise.all([client.authenticate(), channel.ready]);
  } catch (e) {
    channel.close();
    client.close();
    throw e;
  }
  return {
    client,
    keys: opts.keys,
    channel,
    close() {
      channel.close();
      client.close();
    },
  };
}
