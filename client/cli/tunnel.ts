/**
 * `tunnel --as @bob @device --to HOST:PORT --local HOST:PORT --relay @relay|HOST:PORT`: a local listener whose
 * connections reach HOST:PORT on the device through the relay, end-to-end encrypted. Runs until SIGINT/SIGTERM.
 */
import { requireHostPort } from "../../core/host_port.ts";
import { atSignSchema } from "../../core/atsign.ts";
import { UsageError, hostPortSchema, type OptionSpec, type Options } from "../../core/options.ts";
import { resolveRelays } from "../tunnel/relay_address.ts";
import { usedRelayText } from "../tunnel/relay_choice.ts";
import { type Tunnel, openTunnel } from "../tunnel/tunnel_client.ts";
import type { Endpoint } from "../tunnel/endpoint.ts";
import { COMMON_SPEC, type CliCommand, type CliIo } from "./command.ts";
import { startingEndpointFor, untilSignal } from "./tunnel_common.ts";

/** Options shared with `ssh`. */
export const TUNNEL_SPEC = {
  ...COMMON_SPEC,
  device: { kind: "string", help: "the daemon's device name", default: "default", arg: "NAME" },
  relay: { kind: "string", help: "the relay: its @sign (addresses read from public:relay.inlay@RELAY; the fastest is used) or HOST:PORT[,…]", arg: "@RELAY|HOST:PORT" },
} as const satisfies OptionSpec;

const spec = {
  ...TUNNEL_SPEC,
  to: { kind: "string", help: "target on the device side", default: "127.0.0.1:22", arg: "HOST:PORT", schema: hostPortSchema },
  local: { kind: "string", help: "local listener (port 0 picks one)", default: "127.0.0.1:0", arg: "HOST:PORT", schema: hostPortSchema },
} as const satisfies OptionSpec;

/** Opens a tunnel for the common tunnel options; the caller closes both. */
export async function startTunnelFor(o: Options<typeof TUNNEL_SPEC>, device: string, to: string, local: string, io: CliIo): Promise<{ tunnel: Tunnel; endpoint: Endpoint }> {
  const parsed = atSignSchema.safeParse(device);
  if (!parsed.success) throw new UsageError(`Invalid device @sign "${device}"`);
  if (!o.relay) throw new UsageError("Missing --relay @RELAY|HOST:PORT");
  const endpoint = await startingEndpointFor(o, o.device);
  try {
    // The relay's address and the device's key need no authenticated connection: look them up meanwhile.
    const [relay] = await Promise.all([resolveRelays(endpoint.client, o.relay), endpoint.client.publicKeyOf(parsed.data), endpoint.ready]);
    const listen = requireHostPort(local, "--local", { allowPortZero: true });
    const tunnel = await openTunnel({ client: endpoint.client, keys: endpoint.keys, channel: endpoint.channel, device: parsed.data, deviceName: o.device, target: to, local: listen, relay });
    const via = usedRelayText(tunnel.relay());
    io.err(`tunnel ready on ${listen.host}:${tunnel.port} -> ${parsed.data} ${to} via ${via} (${Math.round(performance.now())} ms after start)`);
    return { tunnel, endpoint };
  } catch (e) {
    endpoint.close();
    throw e;
  }
}

/** The tunnel command. */
export const tunnel: CliCommand<typeof spec> = {
  name: "tunnel",
  usage: "bun client.ts tunnel --as @bob @device --to 127.0.0.1:22 --local 127.0.0.1:2222 --relay @relay|HOST:PORT",
  spec,
  async run(o, args, io) {
    if (args.length !== 1) throw new UsageError("tunnel needs exactly one @DEVICE");
    const { tunnel: t, endpoint } = await startTunnelFor(o, args[0]!, o.to, o.local, io);
    await untilSignal();
    t.close();
    endpoint.close();
    return 0;
  },
};
