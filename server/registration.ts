/**
 * Publishes this server's address in the directory through its admin API (`PUT /v1/atsigns/:atsign`), and
 * removes it (`DELETE`).
 */

/** Deadline for the registration request. */
export const REGISTRATION_TIMEOUT_MS = 5_000;

/**
 * Registers `host:port` for `atSign`. Throws a one-line error naming the directory when it fails.
 * @example await registerInDirectory({ url: "http://127.0.0.1:6480", token }, "@alice", "localhost", 6464)
 */
export async function registerInDirectory(admin: { url: string; token: string }, atSign: string, host: string, port: number): Promise<void> {
  await directoryCall(admin, atSign, "PUT", "register", JSON.stringify({ host, port }));
}

/**
 * Removes `atSign` from the directory (hosting mode's delete); an @sign the directory does not know is fine.
 * @example await unregisterFromDirectory({ url: "http://127.0.0.1:6480", token }, "@alice")
 */
export async function unregisterFromDirectory(admin: { url: string; token: string }, atSign: string): Promise<void> {
  await directoryCall(admin, atSign, "DELETE", "unregister");
}

async function directoryCall(admin: { url: string; token: string }, atSign: string, method: "PUT" | "DELETE", what: string, body?: string): Promise<void> {
  const url = `${admin.url.replace(/\/+$/, "")}/v1/atsigns/${encodeURIComponent(atSign)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(REGISTRATION_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(`Cannot ${what} ${atSign} in the directory at ${admin.url}: ${(err as Error).message}`);
  }
  if (!res.ok && !(method === "DELETE" && res.status === 404)) {
    const text = (await res.text()).slice(0, 200);
    throw new Error(`Cannot ${what} ${atSign} in the directory at ${admin.url}: HTTP ${res.status} ${text}`);
  }
}
