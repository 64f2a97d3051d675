/**
 * Publishes this server's address in the directory through its admin API (`PUT /v1/atsigns/:atsign`).
 */

/** Deadline for the registration request. */
export const REGISTRATION_TIMEOUT_MS = 5_000;

/**
 * Registers `host:port` for `atSign`. Throws a one-line error naming the directory when it fails.
 * @example await registerInDirectory({ url: "http://127.0.0.1:6480", token }, "@alice", "localhost", 6464)
 */
export async function registerInDirectory(admin: { url: string; token: string }, atSign: string, host: string, port: number): Promise<void> {
  const url = `${admin.url.replace(/\/+$/, "")}/v1/atsigns/${encodeURIComponent(atSign)}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ host, port }),
      signal: AbortSignal.timeout(REGISTRATION_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(`Cannot register ${atSign} in the directory at ${admin.url}: ${(err as Error).message}`);
  }
  if (!res.ok) {
    const body = (await res.text()).slice(0, 200);
    throw new Error(`Cannot register ${atSign} in the directory at ${admin.url}: HTTP ${res.status} ${body}`);
  }
}
