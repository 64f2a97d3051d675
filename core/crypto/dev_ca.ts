/**
 * Local trust for development and private deployments: a dev CA under `$INLAY_HOME/ca` that issues each
 * service a leaf certificate for its host names, so TLS is on everywhere without any setup.
 *
 * The CA key never leaves `ca/ca.key` (mode 0600). Leaf certificates are issued in memory at each start
 * (P-256, cheap), valid for server and client auth because atServers present their certificate as a client
 * certificate to other atServers.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { bits, bool, explicit, implicit, octets, oid, seq, set, time, uint, utf8, type Der } from "./der.ts";

/** Dev CA lifetime: long, because rotating it means re-trusting it everywhere. */
export const CA_VALIDITY_DAYS = 3650;
/** Leaf lifetime: a leaf is re-issued at every start, so it only has to outlive one run. */
export const LEAF_VALIDITY_DAYS = 397;
const DAY_MS = 86_400_000;
/** Tolerance for clocks that are a little behind. */
const BACKDATE_MS = 3_600_000;

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
  authorityKeyId: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

/** The directory Inlay keeps its local state in: `INLAY_HOME`, else `~/.inlay`. */
export function inlayHome(env: Record<string, string | undefined> = process.env): string {
  return env.INLAY_HOME || join(homedir(), ".inlay");
}

export interface CertPair {
  /** PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
}

export interface DevCa extends CertPair {
  /** Path of the CA certificate that clients trust. */
  certPath: string;
}

/** Path of the dev CA certificate under a home directory. */
export function devCaPath(home: string): string {
  return join(home, "ca", "ca.pem");
}

/**
 * Loads the dev CA of `home`, creating it on first use. Safe when several services start at once: the CA is
 * written to a temporary folder and renamed into place, and the loser of the race reads the winner's.
 */
export function loadOrCreateDevCa(home: string): DevCa {
  const dir = join(home, "ca");
  const certPath = join(dir, "ca.pem");
  if (!existsSync(certPath)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const tmp = mkdtempSync(join(home, ".ca-"));
    const ca = issueCa();
    writeFileSync(join(tmp, "ca.key"), ca.key, { mode: 0o600 });
    writeFileSync(join(tmp, "ca.pem"), ca.cert, { mode: 0o644 });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process created it first
    }
  }
  return { key: readFileSync(join(dir, "ca.key"), "utf8"), cert: readFileSync(certPath, "utf8"), certPath };
}

function newEcKey(): { priv: KeyObject; spki: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { priv: privateKey, spki: new Uint8Array(publicKey.export({ type: "spki", format: "der" })) };
}

function name(cn: string): Der {
  return seq(set(seq(oid(OID.organization), utf8("Inlay dev"))), set(seq(oid(OID.commonName), utf8(cn))));
}

function keyId(spki: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(spki).digest());
}

function ext(id: string, critical: boolean, value: Der): Der {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function certificate(opts: {
  issuer: Der;
  subject: Der;
  spki: Uint8Array;
  signer: KeyObject;
  authorityKeyId: Uint8Array;
  days: number;
  extensions: Der[];
}): string {
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  const now = Date.now();
  const tbs = seq(
    explicit(0, uint(Uint8Array.of(2))), // v3
    uint(randomBytes(16)),
    sigAlg,
    opts.issuer,
    seq(time(new Date(now - BACKDATE_MS)), time(new Date(now + opts.days * DAY_MS))),
    opts.subject,
    opts.spki,
    explicit(3, seq(...opts.extensions, ext(OID.subjectKeyId, false, octets(keyId(opts.spki))), ext(OID.authorityKeyId, false, seq(implicit(0, opts.authorityKeyId))))),
  );
  const signature = new Uint8Array(sign("sha256", tbs, opts.signer));
  const der = seq(tbs, sigAlg, bits(signature));
  return pem("CERTIFICATE", der);
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function issueCa(): CertPair {
  const { priv, spki } = newEcKey();
  const subject = name("Inlay dev CA");
  const keyUsage = bits(Uint8Array.of(0x86), 1); // digitalSignature, keyCertSign, cRLSign
  const cert = certificate({
    issuer: subject,
    subject,
    spki,
    signer: priv,
    authorityKeyId: keyId(spki),
    days: CA_VALIDITY_DAYS,
    extensions: [ext(OID.basicConstraints, true, seq(bool(true))), ext(OID.keyUsage, true, keyUsage)],
  });
  return { key: priv.export({ type: "pkcs8", format: "pem" }).toString(), cert };
}

/**
 * Issues a leaf certificate for `hosts` (DNS names or IP literals), signed by the CA.
 * @example const { key, cert } = issueLeaf(loadOrCreateDevCa(inlayHome()), ["localhost", "127.0.0.1"]);
 */
export function issueLeaf(ca: CertPair, hosts: string[]): CertPair {
  if (hosts.length === 0) throw new RangeError("Cannot issue a certificate: no host names given");
  const caCert = new X509Certificate(ca.cert);
  const caSpki = new Uint8Array(caCert.publicKey.export({ type: "spki", format: "der" }));
  const { priv, spki } = newEcKey();
  const san = seq(...[...new Set(hosts)].map(sanEntry));
  const cert = certificate({
    issuer: seq(...issuerFrom(caCert)),
    subject: name(hosts[0]!),
    spki,
    signer: createPrivateKey(ca.key),
    authorityKeyId: keyId(caSpki),
    days: LEAF_VALIDITY_DAYS,
    extensions: [
      ext(OID.basicConstraints, true, seq()),
      ext(OID.keyUsage, true, bits(Uint8Array.of(0x80), 7)), // digitalSignature
      ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
      ext(OID.subjectAltName, false, san),
    ],
  });
  return { key: priv.export({ type: "pkcs8", format: "pem" }).toString(), cert };
}

/** Our CA subject is always the two-RDN name built by `name`, so rebuild it rather than parse DER. */
function issuerFrom(caCert: X509Certificate): Der[] {
  const cn = /CN=([^\n]+)/.exec(caCert.subject)?.[1] ?? "Inlay dev CA";
  return [set(seq(oid(OID.organization), utf8("Inlay dev"))), set(seq(oid(OID.commonName), utf8(cn)))];
}

function sanEntry(host: string): Der {
  const kind = isIP(host);
  if (kind === 4) return implicit(7, Uint8Array.from(host.split(".").map(Number)));
  if (kind === 6) return implicit(7, ipv6Bytes(host));
  return implicit(2, new TextEncoder().encode(host));
}

function ipv6Bytes(ip: string): Uint8Array {
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
