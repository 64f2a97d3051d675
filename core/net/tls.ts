/**
 * TLS material for our services and clients: the operator's certificate when given, else a leaf issued by the
 * dev CA (see core/crypto/dev_ca.ts). Clients trust the system roots plus the dev CA (or `--ca FILE`).
 *
 * node:tls is loaded only when a list of system roots is actually built (`process.getBuiltinModule`, which is
 * synchronous): the ~140 root certificates cost a process several MiB RSS, and a server needs them only once it
 * first dials the directory or another server (`trustedCasLater`).
 */
import { existsSync, readFileSync } from "node:fs";
import { devCaPath, loadOrCreateDevCa, loadOrIssueLeaf, type CertPair } from "../crypto/dev_ca.ts";

export interface ServiceTlsOptions {
  /** PEM certificate chain file (`--tls-cert`). */
  certFile?: string;
  /** PEM private key file (`--tls-key`). */
  keyFile?: string;
  /** Names the dev certificate must carry; `localhost` and `127.0.0.1` are always included. */
  hosts?: string[];
  /** INLAY_HOME holding the dev CA. */
  home: string;
}

export interface ServiceTls extends CertPair {
  /** Where the certificate came from, for the start-up log. */
  source: "files" | "dev-ca";
  /** The dev CA certificate (PEM) when source is dev-ca, for servers that also make outbound TLS calls. */
  ca?: string;
}

/** Resolves the certificate a service presents. Rejects with a one-line error when only one of cert/key is given. */
export async function serviceTls(opts: ServiceTlsOptions): Promise<ServiceTls> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new TypeError("Cannot load TLS: give both --tls-cert and --tls-key");
    return { cert: readFileSync(opts.certFile, "utf8"), key: readFileSync(opts.keyFile, "utf8"), source: "files" };
  }
  const ca = await loadOrCreateDevCa(opts.home);
  const hosts = ["localhost", "127.0.0.1", ...(opts.hosts ?? [])].filter((h) => h && h !== "0.0.0.0" && h !== "::");
  return { ...(await loadOrIssueLeaf(opts.home, ca, hosts)), source: "dev-ca", ca: ca.cert };
}

/** The system root certificates (PEM), loading node:tls on first use. */
export function systemRootCas(): string[] {
  return [...process.getBuiltinModule("node:tls").rootCertificates];
}

/**
 * The CA list a client trusts: the system roots, plus `caFile` when given, else the dev CA of `home` when it
 * exists. Bun's `tls.ca` replaces the default roots, hence the explicit union.
 */
export function trustedCas(opts: { caFile?: string; home: string }): string[] {
  return trustedCasLater(opts)();
}

/**
 * `trustedCas` built on the first call of the returned function (then kept), for services that may never
 * dial out. A missing `caFile` still throws at once, so a wrong flag fails at start.
 */
export function trustedCasLater(opts: { caFile?: string; home: string }): () => string[] {
  if (opts.caFile && !existsSync(opts.caFile)) throw new TypeError(`Cannot read CA file ${opts.caFile}: it does not exist`);
  let list: string[] | undefined;
  return () => {
    if (list) return list;
    const extra = opts.caFile ?? devCaPath(opts.home);
    list = existsSync(extra) ? [...systemRootCas(), readFileSync(extra, "utf8")] : systemRootCas();
    return list;
  };
}
