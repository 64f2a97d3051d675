import { expect, test } from "bun:test";
import { keyOfPath, pseudoWebPath } from "./public_records.ts";

// The reference's table (docs/http-interface.md), plus the forms that must not leave `public:<name>@me`.
const paths: [string, string | null][] = [
  ["/publickey", "public:publickey@alice"],
  ["/location.wavi", "public:location.wavi@alice"],
  ["/wavi/location", "public:location.wavi@alice"],
  ["/@alice/demo/index.html", "public:index.html.demo@alice"],
  ["/public:location.wavi@alice", "public:location.wavi@alice"],
  ["///wavi//location/", "public:location.wavi@alice"],
  ["/", null],
  ["/@bob:phone", null],
  ["/privatekey:at_pkam_publickey", null],
  ["/phone@bob", null],
  ["/a b", null],
];
for (const [path, key] of paths) test(`keyOfPath(${JSON.stringify(path)}) -> ${key}`, () => expect(keyOfPath(path, "@alice")).toBe(key));

test("a key's name reads as a file path for its media type", () => {
  expect(pseudoWebPath("public:index.html.blog.demo@alice", "@alice")).toBe("demo/blog/index.html");
  expect(pseudoWebPath("public:index.html@alice", "@alice")).toBe("index.html");
  expect(pseudoWebPath("public:publickey@alice", "@alice")).toBe("publickey");
});
