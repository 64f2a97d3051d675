/**
 * SDK clients in a test stack (test/harness.ts): how they find the network, where their .atKeys live, and
 * onboarding one. Shared by the end-to-end tests of the client's features.
 */
import { join } from "node:path";
import { AtClient, type ConnectOptions } from "../client/index.ts";
import type { Stack } from "./harness.ts";

/** How a client of `stack` finds the network. */
export function netOf(stack: Stack): ConnectOptions {
  return { directory: `${stack.directory.host}:${stack.directory.port}`, caFile: stack.caFile, home: stack.home };
}

/** Where the fixture keeps the .atKeys file of `atSign`. */
export function keysFileOf(stack: Stack, atSign: string): string {
  return join(stack.home, "keys", `${atSign}_key.atKeys`);
}

/** Onboards `atSign` with the SDK and returns its client. */
export async function onboarded(stack: Stack, atSign: string): Promise<AtClient> {
  const s = stack.servers.get(atSign);
  if (!s) throw new Error(`no server for ${atSign}`);
  const { client } = await AtClient.onboard(atSign, s.cramSecret, { ...netOf(stack), keysFile: keysFileOf(stack, atSign) });
  return client;
}
