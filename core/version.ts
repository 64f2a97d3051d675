/** The release of Inlay, as `--version` prints it (one source: package.json; bundles inline it). */
import pkg from "../package.json" with { type: "json" };

export const INLAY_VERSION: string = pkg.version;
