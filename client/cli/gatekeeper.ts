/**
 * `gatekeeper`: the owner's gatekeeper rules and quarantine on its atServer (Inlay's own `config:gatekeeper:`
 * forms; server/README.md "Gatekeeper"). Lines are built and checked with the shared grammar.
 */
import type { GatekeeperOperation } from "../../core/verbs/command.ts";
import { buildConfig, parseConfig } from "../../core/verbs/config.ts";
import { UsageError } from "../../core/options.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { COMMON_SPEC, emit, openClient, type CliCommand } from "./command.ts";

const spec = {
  block: { kind: "boolean", help: "with reject: also put the @sign on the block list", default: false },
} as const;

const USAGE = [
  "bun client.ts gatekeeper show",
  "bun client.ts gatekeeper set in|out NAMESPACE|'*' unknown allow|quarantine|deny",
  "bun client.ts gatekeeper set in|out NAMESPACE|'*' allow|deny|forget @SIGN...",
  "bun client.ts gatekeeper quarantine list",
  "bun client.ts gatekeeper admit @SIGN | reject @SIGN [--block]",
].join("\n       ");

/** The operation a command line names, checked by the wire grammar (a wrong one is a usage error). */
function operationOf(args: string[], block: boolean): GatekeeperOperation {
  const [sub, a, b, c, ...more] = args;
  let op: GatekeeperOperation | null = null;
  if (sub === "show" && args.length === 1) op = { op: "show" };
  else if (sub === "quarantine" && (a === undefined || a === "list") && args.length <= 2) op = { op: "quarantineList" };
  else if (sub === "admit" && a !== undefined && args.length === 2) op = { op: "admit", atSign: a };
  else if (sub === "reject" && a !== undefined && args.length === 2) op = { op: "reject", atSign: a, block };
  else if (sub === "set" && (a === "in" || a === "out") && b !== undefined) {
    if (c === "unknown" && more.length === 1) op = { op: "unknown", direction: a, namespace: b, policy: more[0] as "allow" };
    else if ((c === "allow" || c === "deny" || c === "forget") && more.length > 0) op = { op: c, direction: a, namespace: b, atSigns: more };
  }
  if (op === null) throw new UsageError(`usage: ${USAGE}`);
  if (block && op.op !== "reject") throw new UsageError("--block goes with reject");
  try {
    const line = buildConfig({ verb: "config", operation: "gatekeeper", gate: op });
    parseConfig(line);
    return op;
  } catch (e) {
    if (e instanceof AtProtocolError) throw new UsageError(`not a gatekeeper command (${args.join(" ")}); usage: ${USAGE}`);
    throw e;
  }
}

/** Human text of an answer. */
function text(op: GatekeeperOperation, answer: unknown): string {
  const a = answer as Record<string, any>;
  switch (op.op) {
    case "show":
      return JSON.stringify(answer, null, 2) + "\n";
    case "quarantineList": {
      const lines = (a.senders as { atSign: string; held: number; bytes: number }[]).map((s) => `${s.atSign}\t${s.held} held\t${s.bytes} bytes\n`);
      const d = a.dropped as Record<string, number>;
      return `${lines.join("") || "Nothing held\n"}Dropped: ${Object.entries(d).map(([k, n]) => `${k} ${n}`).join(", ")}\n`;
    }
    case "admit":
      return `Admitted ${op.atSign}; released ${a.released} notification(s)\n`;
    case "reject":
      return `Rejected ${op.atSign}${op.block ? " (blocked)" : ""}; dropped ${a.dropped} notification(s)\n`;
    default:
      return "Done\n";
  }
}

/** The gatekeeper command. */
export const gatekeeper: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "gatekeeper",
  usage: USAGE,
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const op = operationOf(args, o.block);
    const client = await openClient(o);
    try {
      const payload = await client.command(buildConfig({ verb: "config", operation: "gatekeeper", gate: op }));
      const answer: unknown = payload === "success" ? { ok: true } : JSON.parse(payload);
      emit(io, o.json, answer, text(op, answer));
    } finally {
      client.close();
    }
    return 0;
  },
};
