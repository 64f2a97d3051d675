import { authorizationHeader, parseChallenge, type Challenge } from "./l402_header.ts";

/** Pays a challenge's invoice and returns the preimage as hex (a Lightning wallet, or `CreditBackend.pay`). */
export type PayInvoice = (challenge: Challenge) => Promise<string>;

/** A paid token to reuse on later calls while its caveats hold. */
export interface L402Token {
  macaroon: string;
  preimage: string;
}

/**
 * Client side of L402: sends the request (with `token` when given); on a 402 with an L402/LSAT challenge,
 * pays it once and repeats the request with the new token. Returns the final response and the token used,
 * so the caller can reuse it. Requests with a body must use a replayable body (string, bytes, FormData).
 *
 * @example
 * ```ts
 * const { response, token } = await fetchWithL402("https://api.example/quote", {}, async (ch) => wallet.pay(ch.invoice));
 * ```
 */
export async function fetchWithL402(
  url: string | URL,
  init: RequestInit,
  pay: PayInvoice,
  token?: L402Token,
  fetchFn: typeof fetch = fetch,
): Promise<{ response: Response; token: L402Token | undefined }> {
  const send = (t: L402Token | undefined) => {
    const headers = new Headers(init.headers);
    if (t) headers.set("Authorization", authorizationHeader(t.macaroon, t.preimage));
    return fetchFn(url, { ...init, headers });
  };
  const first = await send(token);
  if (first.status !== 402) return { response: first, token };
  const challenge = first.headers
    .get("WWW-Authenticate")
    ?.split(/,\s*(?=(?:L402|LSAT)\s)/i)
    .map(parseChallenge)
    .find((c) => c !== undefined);
  if (!challenge) return { response: first, token };
  await first.body?.cancel();
  const fresh: L402Token = { macaroon: challenge.macaroon, preimage: await pay(challenge) };
  return { response: await send(fresh), token: fresh };
}
