/**
 * `to:@<atSign>` (at_server 3.15): a peer server's first verb, naming the @sign it means on this endpoint.
 */
import type { CommandOf } from "./command.ts";
import { after, fail } from "./_syntax.ts";

const TO_USAGE = "to:@<atSign>";

/**
 * Parses `to:@alice` (the `@` is optional, as in the reference's `@?[^\s:]+`).
 * @example parseTo("to:alice") // { verb: "to", atSign: "@alice" }
 */
export function parseTo(line: string): CommandOf<"to"> {
  const sign = after(line, "to:") ?? fail(TO_USAGE);
  if (!/^@?[^\s:@]+$/.test(sign)) fail(TO_USAGE);
  return { verb: "to", atSign: sign.startsWith("@") ? sign : `@${sign}` };
}

/**
 * Builds `to:@<atSign>`.
 * @example buildTo({ verb: "to", atSign: "@alice" }) // "to:@alice"
 */
export function buildTo(cmd: CommandOf<"to">): string {
  return `to:${cmd.atSign}`;
}
