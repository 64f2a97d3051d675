/**
 * atKey rules: names, normalisation, reserved and protected keys, commit/sync rules, visibility and APKAM
 * namespace authorisation. Pure functions; the server and client import from here.
 */
export * from "./at_key.ts";
export * from "./reserved_keys.ts";
export * from "./commit_rules.ts";
export * from "./visibility.ts";
export * from "./namespace_access.ts";
