/**
 * Server-to-server auth with a certificate issued through an intermediate CA, as public CAs issue them: the
 * callee's TLS stack verifies the chain (Bun exposes only the leaf, so our own check could not), provided the
 * listener is given the root — `--peer-ca`, or the system roots by default with an operator certificate.
 * A callee that does not trust the root still refuses. Certificates are made with the openssl CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueLeaf, loadOrCreateDevCa } from "../../core/crypto/dev_ca.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { STACK_HOST, startStack, type Stack } from "../harness.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire, type WireClient } from "../wire_client.ts";
import { eventually } from "./helpers.ts";

let stack: Stack;
let dir: string;
const servers: RunningServer[] = [];
const clients: WireClient[] = [];

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

/** root -> intermediate -> leaf for 127.0.0.1, the leaf file holding leaf + intermediate like a fullchain.pem. */
function makeChain(): { root: string; key: string; chain: string } {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=Test Root", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE");
  writeFileSync(join(dir, "int.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n");
  openssl("req", ...ec, "-keyout", "int.key", "-out", "int.csr", "-subj", "/CN=Test Intermediate");
  openssl("x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-out", "int.pem", "-days", "2", "-extfile", "int.ext");
  writeFileSync(join(dir, "leaf.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  openssl("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1");
  openssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext");
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return { root: read("root.pem"), key: read("leaf.key"), chain: read("leaf.pem") + read("int.pem") };
}

async function start(atSign: string, tls: { key: string; cert: string; ca?: string | string[] }, trust: string[]): Promise<WireClient> {
  const server = await startServer({
    atSign,
    host: STACK_HOST,
    port: 0,
    publicHost: STACK_HOST,
    dataDir: join(dir, atSign),
    tls,
    directory: { host: stack.directory.host, port: stack.directory.port, ca: trust },
    directoryAdmin: { url: stack.directory.adminUrl, token: stack.directory.token },
  });
  servers.push(server);
  const client = await connectWire(server.port, trust);
  clients.push(client);
  expect(await cramAuth(client, atSign, server.cramSecret)).toBe("data:success");
  return client;
}

beforeAll(async () => {
  stack = await startStack({ atSigns: [] });
  dir = mkdtempSync(join(tmpdir(), "inlay-chain-"));
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.stop();
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a sender whose certificate chains through an intermediate is accepted by a callee trusting the root only", async () => {
  const { root, key, chain } = makeChain();
  const trust = [stack.ca, root];
  const devLeaf = await issueLeaf(await loadOrCreateDevCa(stack.home), ["localhost", STACK_HOST]);
  const alice = await start("@alice", { key, cert: chain }, trust);
  await start("@bob", { ...devLeaf, ca: [stack.ca, root] }, trust); // bob accepts peers chaining to root
  await start("@carol", { ...devLeaf, ca: stack.ca }, trust); // carol does not trust root for peers

  await alice.send("notify:id:chain-bob:@bob:x@alice:v");
  await alice.send("notify:id:chain-carol:@carol:x@alice:v");
  const status = async (id: string) => (await alice.send(`notify:status:${id}`)).replace(/^data:/, "");
  await eventually(async () => (await status("chain-bob")) === "delivered");
  await eventually(async () => (await status("chain-carol")) === "errored");
});
