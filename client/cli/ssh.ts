/**
 * `ssh @device [-- REMOTE COMMAND]`: a tunnel to the device's port 22 on a free local port, then the system ssh
 * (`/usr/bin/ssh` or --ssh-binary) through it; exits with ssh's status and closes the tunnel.
 */
import { UsageError, type OptionSpec } from "../../core/options.ts";
import { type CliCommand } from "./command.ts";
import { TUNNEL_SPEC, startTunnelFor } from "./tunnel.ts";

const spec = {
  ...TUNNEL_SPEC,
  user: { kind: "string", help: "remote user name (default: ssh's own default)", arg: "USER" },
  port: { kind: "number", help: "sshd port on the device", default: 22, env: false },
  sshBinary: { kind: "string", help: "the ssh client to run", default: "/usr/bin/ssh", arg: "PATH" },
  sshOption: { kind: "list", help: "ssh -o option, repeatable (e.g. IdentityFile=~/.ssh/x)", arg: "KEY=VALUE", default: [] },
} as const satisfies OptionSpec;

/** The ssh command. */
export const ssh: CliCommand<typeof spec> = {
  name: "ssh",
  usage: "bun client.ts ssh --as @bob @device --relay @relay [--user USER] [--ssh-option K=V …] [-- REMOTE COMMAND…]",
  spec,
  async run(o, args, io) {
    const [device, ...sshArgs] = args;
    if (!device) throw new UsageError("ssh needs the @DEVICE");
    const { tunnel, endpoint } = await startTunnelFor(o, device, `127.0.0.1:${o.port}`, "127.0.0.1:0", io);
    try {
      // The host key belongs to the device, not to 127.0.0.1: keep it under an alias per device.
      const options = [`HostKeyAlias=${device.replace(/^@/, "")}.inlay`, ...o.sshOption].flatMap((opt) => ["-o", opt]);
      const cmd = [o.sshBinary, "-p", String(tunnel.port), ...options, ...(o.user ? ["-l", o.user] : []), "127.0.0.1", ...sshArgs.filter((a) => a !== "--")];
      const child = Bun.spawn(cmd, { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
      return await child.exited;
    } finally {
      tunnel.close();
      endpoint.close();
    }
  },
};
