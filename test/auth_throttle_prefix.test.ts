/**
 * The CRAM throttle counts failures per address, per network prefix and in total (issue 13, item 6): guesses
 * spread over many addresses of one /24, or over many networks, stop at the prefix and total budgets. Real TLS
 * connections from distinct loopback source addresses (127.0.0.0/8 is all local).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect as connectTcp } from "node:net";
import { connect } from "node:tls";
import { cramDigest } from "../core/crypto/index.ts";
import { AUTH_FAILURES_PER_ADDRESS_MAX, AUTH_FAILURES_PER_CONNECTION_MAX, AUTH_FAILURES_PER_PREFIX_MAX, AUTH_SECRET_FAILURES_TOTAL_MAX } from "../server/auth_throttle.ts";
import { startServerFixture, type ServerFixture } from "./server_fixture.ts";
import { ANSWER_TIMEOUT_MS } from "./wire_client.ts";

let f: ServerFixture;
beforeAll(async () => {
  f = await startServerFixture({ atSign: "@guessed" });
});
afterAll(async () => {
  await f?.stop();
});

/** An unauthenticated line client whose connection comes from `localAddress`; `ask` resolves with one answer line. */
async function connectFrom(localAddress: string): Promise<{ ask(line: string): Promise<string>; close(): void }> {
  const tcp = connectTcp({ host: "127.0.0.1", port: f.server.port, localAddress });
  const socket = connect({ socket: tcp, ca: f.ca, servername: "localhost" });
  let buf = "";
  let wake = () => {};
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => {
    buf += d;
    wake();
  });
  socket.on("close", () => wake());
  const answer = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer; got ${JSON.stringify(buf)}`)), ANSWER_TIMEOUT_MS);
      wake = () => {
        // An answer is one line, then the prompt (`@`, or `@guessed@` once authenticated).
        const m = /^(?:([^\n]*)\n)?@(?:guessed@)?$/.exec(buf);
        if (!m && !socket.destroyed) return;
        clearTimeout(timer);
        const line = m?.[1] ?? "";
        buf = "";
        m ? resolve(line) : reject(new Error(`closed; got ${JSON.stringify(buf)}`));
      };
      wake();
    });
  await answer();
  return {
    ask: (line) => {
      socket.write(line + "\n");
      return answer();
    },
    close: () => socket.end(),
  };
}

/** `count` failed CRAM attempts from `address`, AUTH_FAILURES_PER_CONNECTION_MAX per connection. */
async function failFrom(address: string, count: number): Promise<void> {
  for (let done = 0; done < count; ) {
    const c = await connectFrom(address);
    await c.ask("from:@guessed");
    for (let i = 0; i < AUTH_FAILURES_PER_CONNECTION_MAX && done < count; i++, done++) {
      expect(await c.ask(`cram:${"3".repeat(128)}`)).toBe("error:AT0401-Exception: Authentication Failed");
    }
    c.close();
  }
}

/** The answer to the right CRAM digest from `address`. */
async function cramFrom(address: string): Promise<string> {
  const c = await connectFrom(address);
  try {
    const challenge = (await c.ask("from:@guessed")).replace(/^data:/, "");
    return await c.ask(`cram:${await cramDigest(f.server.cramSecret, challenge)}`);
  } finally {
    c.close();
  }
}

test("guesses spread over one /24 stop at the prefix budget; other networks stop at the total budget", async () => {
  // One /24: each address stays under its own budget, the prefix's fills.
  const perAddress = AUTH_FAILURES_PER_ADDRESS_MAX;
  const inPrefix = ["127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"];
  let spent = 0;
  for (const a of inPrefix) {
    if (spent >= AUTH_FAILURES_PER_PREFIX_MAX) break;
    const n = Math.min(perAddress - 1, AUTH_FAILURES_PER_PREFIX_MAX - spent);
    await failFrom(a, n);
    spent += n;
  }
  expect(await cramFrom("127.0.0.99")).toContain("Too many failed authentication attempts from this address or network");
  // Other /24s: each under its prefix budget, together at the total one.
  let total = spent;
  for (let net = 1; total < AUTH_SECRET_FAILURES_TOTAL_MAX; net++) {
    const n = Math.min(perAddress - 1, AUTH_SECRET_FAILURES_TOTAL_MAX - total);
    await failFrom(`127.0.${net}.1`, n);
    total += n;
  }
  expect(await cramFrom("127.0.200.1")).toContain("Too many failed authentication attempts");
});
