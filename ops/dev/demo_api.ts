/**
 * The dev stack's `@api`: a small hono app served by @sign (serveApi: no open port, callers identified by their
 * @sign), so that `bun client.ts fetch @api /v1/items --as @bob` has something to call. Run by dev.ts as
 * `bun ops/dev/demo_api.ts @api` with INLAY_DIRECTORY set; its keys are the @sign's in ~/.atsign/keys.
 */
import { Hono } from "hono";
import { serveApi, type AtApiEnv } from "../../client/api/serve/index.ts";
import { oneAtSign, runEntry } from "../../core/entry.ts";
import { hostPortSchema, type OptionSpec } from "../../core/options.ts";

/** The items the demo API lists. */
const ITEMS = [
  { id: 1, name: "tea" },
  { id: 2, name: "biscuits" },
];

/** The demo app: `/v1/items` lists ITEMS and names the verified caller. */
export function demoApp(): Hono<AtApiEnv> {
  return new Hono<AtApiEnv>()
    .get("/v1/items", (c) => c.json({ items: ITEMS, caller: c.get("atSign") }))
    .get("/v1/items/:id", (c) => {
      const item = ITEMS.find((i) => String(i.id) === c.req.param("id"));
      return item ? c.json(item) : c.json({ error: "not_found" }, 404);
    });
}

const spec = {
  directory: { kind: "string", help: "the atDirectory", arg: "HOST:PORT", default: "127.0.0.1:6464", schema: hostPortSchema },
} satisfies OptionSpec;

if (import.meta.main) {
  await runEntry({ name: "demo_api", usage: "@api [options]", about: "Serves the dev stack's demo API as an @sign (any @sign may call it).", spec }, process.argv.slice(2), process.env, async (o, positionals) => {
    const atSign = oneAtSign(positionals, "bun ops/dev/demo_api.ts @api");
    const served = await serveApi(demoApp(), { as: atSign, directory: o.directory, allow: ["*"] });
    console.log(`${atSign} serving GET /v1/items to any @sign`);
    return { stop: () => served.close() };
  });
}
