/** What the daemon, tunnel and ssh commands share: keys, network and the endpoint from the common options. */
import { requireHostPort } from "../../core/host_port.ts";
import { readAtKeysFile } from "../../core/crypto/index.ts";
import { inlayHome } from "../../core/crypto/dev_ca.ts";
import { trustedCas } from "../../core/net/tls.ts";
import type { Options } from "../../core/options.ts";
import { type Endpoint, type EndpointOptions, type StartingEndpoint, openEndpoint, startEndpoint } from "../tunnel/endpoint.ts";
import { COMMON_SPEC, keysFileFor } from "./command.ts";
import { passphraseFor } from "./passphrase.ts";

/** Opens the endpoint of the `--as` @sign for device name `device`. */
export async function endpointFor(o: Options<typeof COMMON_SPEC>, device: string, onRejected?: EndpointOptions["onRejected"]): Promise<Endpoint> {
  return openEndpoint(await endpointOptions(o, device, onRejected));
}

/** Like endpointFor, without waiting for the connections (see startEndpoint). */
export async function startingEndpointFor(o: Options<typeof COMMON_SPEC>, device: string): Promise<StartingEndpoint> {
  return startEndpoint(await endpointOptions(o, device));
}

async function endpointOptions(o: Options<typeof COMMON_SPEC>, device: string, onRejected?: EndpointOptions["onRejected"]): Promise<EndpointOptions> {
  const keysFile = keysFileFor(o);
  const keys = await readAtKeysFile(keysFile, { passphrase: passphraseFor(o.passphraseFile, keysFile) });
  const ca = trustedCas(o.ca ? { caFile: o.ca, home: inlayHome() } : { home: inlayHome() });
  return {
    keys,
    directory: requireHostPort(o.directory, "--directory"),
    ca,
    device,
    ...(o.server ? { address: requireHostPort(o.server, "--server") } : {}),
    ...(onRejected ? { onRejected } : {}),
  };
}

/** Resolves when the process gets SIGINT or SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}
