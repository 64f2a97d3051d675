import { beforeAll, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { fromBase64, utf8 } from "./encoding.ts";
import { rsaSign, rsaVerify } from "./rsa.ts";
import { type KeyPairText, generateRsaKeyPair, rsaSignSha256 } from "./rsa_webcrypto.ts";

let pair: KeyPairText;
beforeAll(async () => {
  pair = await generateRsaKeyPair();
});

test("WebCrypto key pairs are the atSDK text form node:crypto reads: SPKI and PKCS#8 RSA-2048, e = 65537", () => {
  const pub = createPublicKey({ key: Buffer.from(fromBase64(pair.publicKey, "pub")), format: "der", type: "spki" });
  const priv = createPrivateKey({ key: Buffer.from(fromBase64(pair.privateKey, "priv")), format: "der", type: "pkcs8" });
  expect(pub.asymmetricKeyType).toBe("rsa");
  expect(pub.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
  expect(priv.asymmetricKeyType).toBe("rsa");
  expect(fromBase64(pair.publicKey, "pub").byteLength).toBe(294);
});

test("rsaSignSha256 makes the bytes node:crypto's rsaSign makes (PKCS#1 v1.5 is deterministic)", async () => {
  const data = utf8("d4f1c2e0-proof");
  const ours = await rsaSignSha256(pair.privateKey, data);
  expect(ours).toEqual(rsaSign(pair.privateKey, data, "sha256"));
  expect(rsaVerify(pair.publicKey, data, ours)).toBe(true);
  await expect(rsaSignSha256("AAAA", data)).rejects.toThrow();
});
