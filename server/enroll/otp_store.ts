/**
 * One-time passcodes and the semi-permanent passcode (ATPROTOCOL.md §8.3). An OTP is stored at
 * `private:<otp lower-cased>.__otp@<me>` with an expiry and deleted when used; the SPP at
 * `private:spp.__otp@<me>`. Both are `private:` keys, so they never enter the commit log.
 */
import { randomInt } from "../../core/crypto/random_int.ts";
import { constantTimeEqual } from "../../core/crypto/constant_time_equal.ts";
import type { ServerContext } from "../context.ts";
import { isActive } from "../metadata.ts";
import { freshMeta } from "../server_keys.ts";

/** Characters of a generated OTP: upper-case letters and digits without `0` and `O`, which people confuse. */
export const OTP_ALPHABET = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789";
/** Characters of a generated OTP. */
export const OTP_LENGTH = 6;
/** Longest passcode an enroll request or `otp:put` may carry. */
export const OTP_MAX_CHARS = 64;

const PASSCODE_RE = new RegExp(`^\\w{6,${OTP_MAX_CHARS}}$`);
const HAS_DIGIT_RE = /\d/;

const otpKey = (otp: string, atSign: string) => `private:${otp.toLowerCase()}.__otp${atSign}`;
const sppKey = (atSign: string) => `private:spp.__otp${atSign}`;

/** A fresh OTP: OTP_LENGTH characters of OTP_ALPHABET with at least one digit. */
export function generateOtp(): string {
  for (;;) {
    let otp = "";
    for (let i = 0; i < OTP_LENGTH; i++) otp += OTP_ALPHABET[randomInt(OTP_ALPHABET.length)];
    // With 9 digits in 34 characters, a draw without any digit happens ~12% of the time: retry.
    if (HAS_DIGIT_RE.test(otp)) return otp;
  }
}

/** Stores a new OTP valid for `ttlMs` and returns it. */
export function issueOtp(ctx: ServerContext, ttlMs: number, now = Date.now()): string {
  const otp = generateOtp();
  const meta = { ...freshMeta(ctx.atSign, now), ttl: ttlMs, expiresAt: now + ttlMs };
  ctx.keystore.put({ key: otpKey(otp, ctx.atSign), value: otp, meta }, "+");
  ctx.expiryChanged(meta.expiresAt);
  return otp;
}

/** Whether `text` may be stored as an SPP (word characters, 6 to OTP_MAX_CHARS). */
export function isPasscodeShaped(text: string): boolean {
  return PASSCODE_RE.test(text);
}

/** Stores the semi-permanent passcode; `ttlMs` undefined = no expiry. */
export function putSpp(ctx: ServerContext, spp: string, ttlMs: number | undefined, now = Date.now()): void {
  const meta = freshMeta(ctx.atSign, now);
  if (ttlMs !== undefined) {
    meta.ttl = ttlMs;
    meta.expiresAt = now + ttlMs;
    ctx.expiryChanged(meta.expiresAt);
  }
  ctx.keystore.put({ key: sppKey(ctx.atSign), value: spp.toLowerCase(), meta }, "+");
}

/**
 * Checks a passcode from an enroll request, case-insensitively: the SPP first (it stays), then an OTP (it is
 * deleted, so a replay fails). False for anything else.
 */
export function consumePasscode(ctx: ServerContext, given: string, now = Date.now()): boolean {
  if (!isPasscodeShaped(given)) return false;
  const lower = given.toLowerCase();
  const spp = ctx.keystore.get(sppKey(ctx.atSign));
  if (spp?.value && isActive(spp.meta, now) && constantTimeEqual(spp.value, lower)) return true;
  const key = otpKey(lower, ctx.atSign);
  const otp = ctx.keystore.get(key);
  if (!otp || !isActive(otp.meta, now)) return false;
  ctx.keystore.remove(key);
  return true;
}
