/**
 * Owner authentication on a fresh connection (ATPROTOCOL.md §4.1, §4.2): `from:@alice` returns a challenge,
 * answered with `cram:<sha512 hex>` (onboarding) or `pkam:...:<signature>` (every later connection).
 */
import { cramDigest, signPkam, type PkamHashingAlgo, type PkamPrivateKey } from "../../core/crypto/index.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import type { AtConnection } from "../connection/at_connection.ts";
import { AtAuthError, errorFromServer } from "../errors.ts";

/** How a client proves it owns its @sign on each new connection. */
export type Authenticator = (conn: AtConnection) => Promise<void>;

/** Asks for a challenge: the text after `data:` of the `from:` reply. */
export async function requestChallenge(conn: AtConnection, atSign: string): Promise<string> {
  const r = await conn.request(buildCommand({ verb: "from", atSign }));
  if (!r.ok) throw errorFromServer(r.code, r.description, "from");
  if (r.data.startsWith("proof:")) throw new AtAuthError(`Server at ${conn.where} is not the atServer of ${atSign} (it answered as for another @sign)`);
  return r.data;
}

async function expectSuccess(conn: AtConnection, line: string, verb: string, fix: string): Promise<void> {
  const r = await conn.request(line);
  if (r.ok && r.data === "success") return;
  if (r.ok) throw new AtAuthError(`${verb} answered "${r.data.slice(0, 40)}" instead of success`);
  throw new AtAuthError(`${verb} authentication failed (${r.code} ${r.description}); ${fix}`, r.code);
}

/**
 * PKAM: signs the challenge with the device's PKAM private key.
 * @example await pkamAuthenticate(conn, "@alice", { algo: "rsa2048", privateKey })
 */
export async function pkamAuthenticate(
  conn: AtConnection,
  atSign: string,
  key: PkamPrivateKey,
  opts: { hashingAlgo?: PkamHashingAlgo; enrollmentId?: string } = {},
): Promise<void> {
  const challenge = await requestChallenge(conn, atSign);
  const hashingAlgo = opts.hashingAlgo ?? "sha256";
  const signature = signPkam(challenge, key, hashingAlgo);
  await expectSuccess(
    conn,
    buildCommand({ verb: "pkam", signingAlgo: key.algo, hashingAlgo, ...(opts.enrollmentId ? { enrollmentId: opts.enrollmentId } : {}), signature }),
    "PKAM",
    `check that --keys is the .atKeys file of ${atSign} and that ${atSign} was onboarded with it`,
  );
}

/** CRAM: proves knowledge of the server's one-time secret (first onboarding only). */
export async function cramAuthenticate(conn: AtConnection, atSign: string, secret: string): Promise<void> {
  const challenge = await requestChallenge(conn, atSign);
  await expectSuccess(conn, buildCommand({ verb: "cram", digest: await cramDigest(secret, challenge) }), "CRAM", `check the CRAM secret of ${atSign} (it is gone once ${atSign} was onboarded)`);
}
