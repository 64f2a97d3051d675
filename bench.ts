/** Entry: `bun bench.ts [SCENARIO ...] [--quick] [--json FILE] [--html FILE] [--peers]` (see bench/bench_cli.ts). */
import { benchCli } from "./bench/bench_cli.ts";
import { SCENARIOS } from "./bench/scenarios/index.ts";

process.exit(await benchCli(process.argv.slice(2), process.env, SCENARIOS));
