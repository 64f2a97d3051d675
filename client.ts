/** Entry of the client CLI: `bun client.ts <command> [options]` (see client/cli/). */
import { runCli } from "./client/cli/run.ts";
import { programName } from "./core/entry.ts";

// Output is collected and written in order, each flush waiting for its write's callback (the bytes went to the
// pipe), so process.exit cannot cut a large binary value short. Not Bun.write(Bun.stdout): in Bun 1.4.5, repeated
// calls to a pipe that pushes back were seen writing some bytes twice (test/api/tunnel_cli.test.ts caught it).
const out: Uint8Array[] = [];
const encoder = new TextEncoder();
const flush = async () => {
  if (out.length === 0) return;
  const bytes = Buffer.concat(out.splice(0));
  await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
};
const code = await runCli(process.argv.slice(2), process.env, {
  stdin: () => Bun.stdin.stream(),
  out: (b) => void out.push(typeof b === "string" ? encoder.encode(b) : b),
  err: (line) => void process.stderr.write(line + "\n"),
  stdoutIsTty: process.stdout.isTTY === true,
  flush,
}, programName("client"));
await flush();
process.exit(code);
