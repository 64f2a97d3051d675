/**
 * End-to-end encrypted tunnels through the blind relay: the device daemon, the requester's tunnel, their control
 * channel and endpoint helpers (see README.md in this folder).
 * @example
 * ```ts
 * const ep = await openEndpoint({ keys, directory, ca, device: "default" });
 * const t = await openTunnel({ client: ep.client, keys, channel: ep.channel, device: "@device", deviceName: "default",
 *   target: "127.0.0.1:22", local: { host: "127.0.0.1", port: 0 }, relay: { host, port } });
 * ```
 * @module
 */
export { startDaemon, DAEMON_FEATURES, DAEMON_VERSION, type Daemon, type DaemonOptions } from "./daemon.ts";
export { openTunnel, pingDevice, TunnelSetupError, type LocalStream, type RelayAddress, type Tunnel, type TunnelOptions, type UsedRelay } from "./tunnel_client.ts";
export { openEndpoint, startEndpoint, type Endpoint, type EndpointOptions, type StartingEndpoint } from "./endpoint.ts";
export { notificationControlChannel, type ControlChannel, type ControlEnvelope, type NotificationChannel } from "./control_channel.ts";
export { type ControlMessage } from "./control_message.ts";
export { parsePermit, type Permit } from "./permits.ts";
export { resolveRelays, RELAY_ADDRESS_KEY } from "./relay_address.ts";
export { planRelays, type RelayPlan } from "./relay_choice.ts";
