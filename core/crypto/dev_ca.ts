/**
 * Local trust for development and private deployments: a dev CA under `$INLAY_HOME/ca` that issues each
 * service a leaf certificate for its host names, so TLS is on everywhere without any setup.
 *
 * The CA key never leaves `ca/ca.key` (mode 0600). Leaf certificates (P-256) are valid for server and client
 * auth because atServers present their certificate as a client certificate to other atServers; each is kept
 * in `ca/leaves/` (mode 0600) and used again by later starts with the same names until it nears its end.
 *
 * Everything runs on WebCrypto (hence async) and our own DER code: node:crypto would cost every service that
 * starts with a dev certificate ~5 MiB RSS.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { toHex } from "./encoding.ts";
import { join } from "node:path";
import { ipVersion } from "../net/ip_version.ts";
import { bits, bool, explicit, implicit, octets, oid, seq, set, time, uint, utf8, type Der } from "./der.ts";
import { derBytes, derChildren, readDerElement } from "./der_reader.ts";

/** Dev CA lifetime: long, because rotating it means re-trusting it everywhere. */
export const CA_VALIDITY_DAYS = 3650;
/** Leaf lifetime (the most browsers accept, in case one is pointed at a dev service). */
export const LEAF_VALIDITY_DAYS = 397;
/** A kept leaf is replaced at the first start when it has fewer days left than this. */
export const LEAF_RENEW_DAYS = 30;
const DAY_MS = 86_400_000;
/** Tolerance for clocks that are a little behind. */
const BACKDATE_MS = 3_600_000;

/** Bytes of a certificate serial number (random, as CAs must make them unpredictable). */
const SERIAL_BYTES = 16;
/** Byte length of r and of s in a P-256 signature. */
const P256_SCALAR_BYTES = 32;
const EC_KEY = { name: "ECDSA", namedCurve: "P-256" } as const;
const EC_SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

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
  // node:os (~1.4 MiB RSS) only when neither variable says where: os.homedir() reads HOME first too.
  return env.INLAY_HOME || join(env.HOME || process.getBuiltinModule("node:os").homedir(), ".inlay");
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
export async function loadOrCreateDevCa(home: string): Promise<DevCa> {
  const dir = join(home, "ca");
  const certPath = join(dir, "ca.pem");
  if (!existsSync(certPath)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const tmp = mkdtempSync(join(home, ".ca-"));
    const ca = await issueCa();
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

async function newEcKey(): Promise<{ priv: CryptoKey; spki: Uint8Array; pem: string }> {
  const { privateKey, publicKey } = (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
  const [spki, pkcs8] = await Promise.all([crypto.subtle.exportKey("spki", publicKey), crypto.subtle.exportKey("pkcs8", privateKey)]);
  return { priv: privateKey, spki: new Uint8Array(spki), pem: pem("PRIVATE KEY", new Uint8Array(pkcs8)) };
}

function name(cn: string): Der {
  return seq(set(seq(oid(OID.organization), utf8("Inlay dev"))), set(seq(oid(OID.commonName), utf8(cn))));
}

/** A key identifier: SHA-1 of the DER SubjectPublicKeyInfo (it only has to be unique per key, RFC 5280 §4.2.1.2). */
async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-1", spki as Uint8Array<ArrayBuffer>));
}

function ext(id: string, critical: boolean, value: Der): Der {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

async function certificate(opts: {
  issuer: Der;
  subject: Der;
  spki: Uint8Array;
  signer: CryptoKey;
  authorityKeyId: Uint8Array;
  days: number;
  extensions: Der[];
}): Promise<string> {
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  const now = Date.now();
  const tbs = seq(
    explicit(0, uint(Uint8Array.of(2))), // v3
    uint(crypto.getRandomValues(new Uint8Array(SERIAL_BYTES))),
    sigAlg,
    opts.issuer,
    seq(time(new Date(now - BACKDATE_MS)), time(new Date(now + opts.days * DAY_MS))),
    opts.subject,
    opts.spki,
    explicit(3, seq(...opts.extensions, ext(OID.subjectKeyId, false, octets(await keyId(opts.spki))), ext(OID.authorityKeyId, false, seq(implicit(0, opts.authorityKeyId))))),
  );
  // WebCrypto gives r‖s; X.509 wants the DER SEQUENCE { INTEGER r, INTEGER s }.
  const rs = new Uint8Array(await crypto.subtle.sign(EC_SIGN, opts.signer, tbs as Uint8Array<ArrayBuffer>));
  const signature = seq(uint(rs.subarray(0, P256_SCALAR_BYTES)), uint(rs.subarray(P256_SCALAR_BYTES)));
  const der = seq(tbs, sigAlg, bits(signature));
  return pem("CERTIFICATE", der);
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function pemBody(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(text);
  if (!m) throw new TypeError(`Cannot read the dev CA: no ${label} PEM block`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

async function issueCa(): Promise<CertPair> {
  const { priv, spki, pem: key } = await newEcKey();
  const subject = name("Inlay dev CA");
  const keyUsage = bits(Uint8Array.of(0x86), 1); // digitalSignature, keyCertSign, cRLSign
  const cert = await certificate({
    issuer: subject,
    subject,
    spki,
    signer: priv,
    authorityKeyId: await keyId(spki),
    days: CA_VALIDITY_DAYS,
    extensions: [ext(OID.basicConstraints, true, seq(bool(true))), ext(OID.keyUsage, true, keyUsage)],
  });
  return { key, cert };
}

/** The subject Name and the SubjectPublicKeyInfo of a certificate, as their DER encodings. */
function subjectAndKey(certDer: Uint8Array): { subject: Der; spki: Uint8Array } {
  const [tbs] = derChildren(certDer, readDerElement(certDer));
  if (!tbs) throw new TypeError("Cannot read the dev CA certificate: it is empty");
  const fields = derChildren(certDer, tbs);
  // TBSCertificate: [0] version (present in v3), serial, signature, issuer, validity, subject, spki, ...
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[at + 4];
  const spki = fields[at + 5];
  if (!subject || !spki) throw new TypeError("Cannot read the dev CA certificate: TBSCertificate is too short");
  return { subject: derBytes(certDer, subject), spki: derBytes(certDer, spki) };
}

/**
 * Issues a leaf certificate for `hosts` (DNS names or IP literals), signed by the CA.
 * @example const { key, cert } = await issueLeaf(await loadOrCreateDevCa(inlayHome()), ["localhost", "127.0.0.1"]);
 */
export async function issueLeaf(ca: CertPair, hosts: string[]): Promise<CertPair> {
  if (hosts.length === 0) throw new RangeError("Cannot issue a certificate: no host names given");
  const caCert = subjectAndKey(pemBody(ca.cert, "CERTIFICATE"));
  const [{ spki, pem: key }, signer, authorityKeyId] = await Promise.all([
    newEcKey(),
    crypto.subtle.importKey("pkcs8", pemBody(ca.key, "PRIVATE KEY"), EC_KEY, false, ["sign"]),
    keyId(caCert.spki),
  ]);
  const san = seq(...[...new Set(hosts)].map(sanEntry));
  const cert = await certificate({
    issuer: caCert.subject,
    subject: name(hosts[0]!),
    spki,
    signer,
    authorityKeyId,
    days: LEAF_VALIDITY_DAYS,
    extensions: [
      ext(OID.basicConstraints, true, seq()),
      ext(OID.keyUsage, true, bits(Uint8Array.of(0x80), 7)), // digitalSignature
      ext(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
      ext(OID.subjectAltName, false, san),
    ],
  });
  return { key, cert };
}

/**
 * The leaf for `hosts` under the dev CA of `home`: the one an earlier start issued, when this CA issued it for
 * these names and it has LEAF_RENEW_DAYS left, else a new one, kept for the next start. Why keep it: issuing
 * (a key pair and a signature) at every start cost each service ~2 MiB RSS for the code it runs once.
 * The file says what it is for (a names line, then key, leaf and the issuing CA's certificate), so checking it
 * needs no hashing (WebCrypto alone costs ~1 MiB); it is written whole and renamed into place, so services
 * starting at the same time never pair one's key with another's certificate; an unreadable file is replaced.
 */
export async function loadOrIssueLeaf(home: string, ca: CertPair, hosts: string[], nowMs = Date.now()): Promise<CertPair> {
  const names = [...new Set(hosts)];
  const header = `${LEAF_FILE_HEADER}${names.join(",")}\n`;
  const dir = join(home, "ca", "leaves");
  const file = join(dir, `${fnv1a32(header).toString(16).padStart(8, "0")}.pem`);
  const kept = readKeptLeaf(file, header, ca.cert);
  if (kept && leafNotAfterMs(kept.cert) - nowMs > LEAF_RENEW_DAYS * DAY_MS) return kept;
  const leaf = await issueLeaf(ca, names);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${toHex(crypto.getRandomValues(new Uint8Array(4)))}`;
  writeFileSync(tmp, header + leaf.key + leaf.cert + ca.cert, { mode: 0o600 });
  renameSync(tmp, file);
  return leaf;
}

/** First line of a kept leaf file; the names follow, comma-separated. */
const LEAF_FILE_HEADER = "# Inlay dev leaf for ";

/** The kept leaf when the file is for exactly `header`'s names and was issued by `caCert`; else null. */
function readKeptLeaf(file: string, header: string, caCert: string): CertPair | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null; // not there yet, or unreadable: issue a new one
  }
  if (!text.startsWith(header)) return null;
  const key = /-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----\n/.exec(text)?.[0];
  const [cert, issuer] = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
  return key && cert && issuer && issuer.trim() === caCert.trim() ? { key, cert } : null;
}

/** FNV-1a (32 bits): a short, stable file name for a set of names (the file's header is what is checked). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** notAfter of a PEM certificate in ms since the epoch; 0 (so: replace it) when it cannot be read. */
function leafNotAfterMs(certPem: string): number {
  try {
    const der = pemBody(certPem, "CERTIFICATE");
    const [tbs] = derChildren(der, readDerElement(der));
    const fields = derChildren(der, tbs!);
    const validity = fields[fields[0]?.tag === 0xa0 ? 4 : 3]!;
    const notAfter = derChildren(der, validity)[1]!;
    return parseDerTime(notAfter.tag, new TextDecoder().decode(der.subarray(notAfter.contentStart, notAfter.end)));
  } catch {
    return 0;
  }
}

/** UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ), as der.ts `time` writes them. */
function parseDerTime(tag: number, text: string): number {
  const full = tag === 0x17 ? (Number(text.slice(0, 2)) < 50 ? "20" : "19") + text : text;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(full);
  if (!m) return 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function sanEntry(host: string): Der {
  const kind = ipVersion(host);
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
