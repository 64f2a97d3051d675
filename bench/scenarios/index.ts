/** Every scenario, in the order `all` runs them. */
import type { Scenario } from "../scenario.ts";
import { cryptoScenario } from "./crypto.ts";
import { relayScenario } from "./relay.ts";

export const SCENARIOS: Scenario[] = [cryptoScenario, relayScenario];
