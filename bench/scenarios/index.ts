/** Every scenario, in the order `all` runs them. */
import type { Scenario } from "../scenario.ts";
import { abuseScenario } from "./abuse.ts";
import { apiScenario } from "./api.ts";
import { cryptoScenario } from "./crypto.ts";
import { directoryScenario } from "./directory.ts";
import { memoryScenario } from "./memory.ts";
import { notifyScenario } from "./notify.ts";
import { relayScenario } from "./relay.ts";
import { serverScenario } from "./server.ts";
import { tunnelScenario } from "./tunnel.ts";

/** The registry `bench.ts` picks scenarios from. */
export const SCENARIOS: Scenario[] = [directoryScenario, serverScenario, cryptoScenario, notifyScenario, relayScenario, tunnelScenario, memoryScenario, apiScenario, abuseScenario];
