/** Entry of the client CLI: `bun client.ts <command> [options]` (see client/cli/). */
import { runCli } from "./client/cli/run.ts";

// Output is collected and written with Bun.write, which resolves only once a pipe took every byte;
// process.stdout.write followed by process.exit can cut a large binary value short.
const out: Uint8Array[] = [];
const encoder = new TextEncoder();
const flush = async () => {
  if (out.length > 0) await Bun.write(Bun.stdout, Buffer.concat(out.splice(0)));
};
const code = await runCli(process.argv.slice(2), process.env, {
  stdin: () => Bun.stdin.stream(),
  out: (b) => void out.push(typeof b === "string" ? encoder.encode(b) : b),
  err: (line) => void process.stderr.write(line + "\n"),
  stdoutIsTty: process.stdout.isTTY === true,
  flush,
});
await flush();
process.exit(code);
