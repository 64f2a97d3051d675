/**
 * Onboarding done for the user of the dev stack: each @sign whose keys are not in the key folder
 * (~/.atsign/keys) is onboarded with its server's CRAM secret, read from the server's 0600 file (never from a
 * command line). Keys that are there are checked (PKAM); a mismatch — keys of an earlier INLAY_HOME, say — is
 * reported with the one command that fixes it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AtClient, atKeysPath } from "../../client/at_client.ts";
import { AtAuthError } from "../../client/errors.ts";
import { CRAM_SECRET_FILE } from "../../server/server_keys.ts";

/** What happened to one @sign's keys. */
export interface KeysOutcome {
  atSign: string;
  keysFile: string;
  /** `onboarded`: keys made now; `present`: keys there and accepted; `blocked`: see `fix`. */
  state: "onboarded" | "present" | "blocked";
  /** For `blocked`: what is wrong and the one command (or step) that fixes it. */
  fix?: string;
}

/** The CRAM secret file of the dev server of `atSign` (server.ts writes it, mode 0600). */
export const cramFileOf = (home: string, atSign: string) => join(home, "servers", atSign, CRAM_SECRET_FILE);

/**
 * Makes sure `atSign` has working keys in the key folder, onboarding it when it has none.
 * @example await ensureKeys("@alice", { home, directory: "127.0.0.1:6464", client: "bun client.ts" })
 */
export async function ensureKeys(atSign: string, p: { home: string; directory: string; client: string }): Promise<KeysOutcome> {
  const keysFile = atKeysPath(atSign);
  const cramFile = cramFileOf(p.home, atSign);
  const net = { directory: p.directory, home: p.home };
  if (existsSync(keysFile)) {
    try {
      (await AtClient.open({ keysFile, ...net })).close();
      return { atSign, keysFile, state: "present" };
    } catch (e) {
      if (!(e instanceof AtAuthError)) throw e;
      const fix = `${keysFile} does not authenticate with this stack's ${atSign} (keys of an earlier INLAY_HOME?); replace them: ${p.client} onboard ${atSign} --overwrite --cram - < ${cramFile}`;
      return { atSign, keysFile, state: "blocked", fix };
    }
  }
  try {
    const { client } = await AtClient.onboard(atSign, readFileSync(cramFile, "utf8").trim(), net);
    client.close();
    return { atSign, keysFile, state: "onboarded" };
  } catch (e) {
    if (!(e instanceof AtAuthError)) throw e;
    const fix = `${atSign} was onboarded before, but its keys are not in ${keysFile}; to start ${atSign} afresh, stop the stack and delete ${join(p.home, "servers", atSign)}`;
    return { atSign, keysFile, state: "blocked", fix };
  }
}
