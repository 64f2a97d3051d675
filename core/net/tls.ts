/**
 * TLS material for our services and clients: the operator's certificate when given, else a leaf issued by the
 * dev CA (see core/crypto/dev_ca.ts). Clients trust the system roots plus the dev CA (or `--ca FILE`).
 */
import { existsSync, readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { devCaPath, issueLeaf, loadOrCreateDevCa, type CertPair } from "../crypto/dev_ca.ts";

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

/** Resolves the certificate a service presents. Throws a one-line error when only one of cert/key is given. */
export function serviceTls(opts: ServiceTlsOptions): ServiceTls {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new TypeError("Cannot load TLS: give both --tls-cert and --tls-key");
    return { cert: readFileSync(opts.certFile, "utf8"), key: readFileSync(opts.keyFile, "utf8"), source: "files" };
  }
  const ca = loadOrCreateDevCa(opts.home);
  const hosts = ["localhost", "127.0.0.1", ...(opts.hosts ?? [])].filter((h) => h && h !== "0.0.0.0" && h !== "::");
  return { ...issueLeaf(ca, hosts), source: "dev-ca", ca: ca.cert };
}

/**
 * The CA list a client trusts: the system roots, plus `caFile` when given, else the dev CA of `home` when it
 * exists. Bun's `tls.ca` replaces the default roots, hence the explicit union.
 */
export function trustedCas(opts: { caFile?: string; home: string }): string[] {
  const extra = opts.caFile ?? devCaPath(opts.home);
  if (opts.caFile && !existsSync(opts.caFile)) throw new TypeError(`Cannot read CA file ${opts.caFile}: it does not exist`);
  return existsSync(extra) ? [...rootCertificates, readFileSync(extra, "utf8")] : [...rootCertificates];
}
