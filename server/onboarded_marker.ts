/**
 * Once an @sign is onboarded, its server must never fall back to CRAM because its keystore is gone: a keystore
 * truncated to 0 bytes opens as an empty database, and an empty store takes the CRAM secret again. So onboarding
 * leaves a marker outside the database (DATA/onboarded, 0600), and the server refuses to start on an empty or
 * unreadable keystore of a marked @sign until the operator restores the file or resets on purpose.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../core/log.ts";
import { PKAM_PUBLIC_KEY } from "./auth.ts";
import { CRAM_SECRET_FILE, isOnboarded } from "./server_keys.ts";
import { openKeystore, type Keystore } from "./store/keystore.ts";

/** The keystore file in the data folder. */
export const KEYSTORE_FILE = "keystore.sqlite";
/** The marker file (mode 0600) written when the @sign is onboarded; it holds the @sign and the time. */
export const ONBOARDED_MARKER_FILE = "onboarded";
/** The server.ts flag that accepts the loss of an onboarded keystore (the README documents it). */
export const RESET_ONBOARDING_FLAG = "--reset-onboarding";

const log = logger("server");

/** Writes the marker unless it exists. A failed write is logged, not thrown: the onboarding itself is committed. */
function writeMarker(dataDir: string, atSign: string): void {
  const file = join(dataDir, ONBOARDED_MARKER_FILE);
  if (existsSync(file)) return;
  try {
    writeFileSync(file, `${atSign} onboarded ${new Date().toISOString()}\n`, { mode: 0o600 });
  } catch (err) {
    log.error("could not write the onboarded marker", { file, error: (err as Error).message });
  }
}

/** The keystore with a put that marks the @sign onboarded once the PKAM public key is committed. */
function marking(ks: Keystore, dataDir: string, atSign: string): Keystore {
  return {
    ...ks,
    put(record, op, opts) {
      const id = ks.put(record, op, opts);
      if (record.key === PKAM_PUBLIC_KEY) writeMarker(dataDir, atSign);
      return id;
    },
  };
}

function storeLost(atSign: string, dataDir: string, why: string): Error {
  const store = join(dataDir, KEYSTORE_FILE);
  return new Error(
    `${atSign} is onboarded (${join(dataDir, ONBOARDED_MARKER_FILE)}) but its keystore ${store} is ${why}: restore ${store} from a backup, or start with ${RESET_ONBOARDING_FLAG} to accept the loss and onboard ${atSign} again with a new CRAM secret`,
  );
}

/**
 * Opens the keystore of `atSign` in `dataDir`, refusing (one-line Error) an empty or unreadable store of an
 * onboarded @sign. With `reset`, such a store is accepted: the marker and the old CRAM secret file go, so the
 * @sign can be onboarded again with a new secret. A store onboarded before markers existed gets its marker now.
 * @example const { keystore } = openGuardedKeystore(dataDir, "@alice", false);
 */
export function openGuardedKeystore(dataDir: string, atSign: string, reset: boolean): { keystore: Keystore; wasReset: boolean } {
  const marked = existsSync(join(dataDir, ONBOARDED_MARKER_FILE));
  let ks: Keystore;
  try {
    ks = openKeystore(join(dataDir, KEYSTORE_FILE));
  } catch (err) {
    if (!marked) throw err;
    if (reset) throw new Error(`cannot reset ${atSign}: its keystore ${join(dataDir, KEYSTORE_FILE)} is unreadable (${(err as Error).message}); move it aside first`);
    throw storeLost(atSign, dataDir, `unreadable (${(err as Error).message})`);
  }
  let wasReset = false;
  if (isOnboarded(ks)) writeMarker(dataDir, atSign);
  else if (marked && !reset) {
    ks.close();
    throw storeLost(atSign, dataDir, "empty");
  } else if (marked) {
    rmSync(join(dataDir, ONBOARDED_MARKER_FILE), { force: true });
    rmSync(join(dataDir, CRAM_SECRET_FILE), { force: true });
    wasReset = true;
  }
  return { keystore: marking(ks, dataDir, atSign), wasReset };
}
