/**
 * Preloaded by bunfig.toml before every test file. Integration tests start real TLS servers and generate
 * RSA keys on a small shared machine; 5 s (bun's default) is too tight there, an hour would hide hangs.
 * Bun 1.4 keeps this for the first file of a run only (oven-sh/bun#43787): `bun run test` passes --timeout too.
 * The PostgreSQL cluster the tests share (test/postgres.ts) is stopped after the last file.
 */
import { afterAll, setDefaultTimeout } from "bun:test";
import { stopTestCluster } from "./postgres.ts";

setDefaultTimeout(30_000);
afterAll(stopTestCluster);
