// The client's types of the control plane's API, generated from its OpenAPI document (printed
// by `python -m oqto.control.openapi_dump`, so no server needs to run) with openapi-typescript
// and formatted like the rest of the code. `--check` writes nothing and fails if the
// committed file differs from what would be generated (scripts/test.sh runs it).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import { format, resolveConfig } from "prettier";

const root = new URL("../../", import.meta.url).pathname;
const target = new URL("../src/api/schema.d.ts", import.meta.url).pathname;
const python = process.env.OQTO_PYTHON ?? `${root}.venv/bin/python`;

let printed;
try {
  printed = execFileSync(python, ["-m", "oqto.control.openapi_dump"], {
    cwd: root,
    // This checkout's code, even from a venv installed for another (a CI copy's, say).
    env: { ...process.env, PYTHONPATH: [process.env.PYTHONPATH, `${root}src`].filter(Boolean).join(":") },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
} catch {
  console.error(
    `could not print the OpenAPI document with ${python} (set OQTO_PYTHON, or run scripts/setup.sh)`,
  );
  process.exit(1);
}
const document = JSON.parse(printed);
const header =
  "/** Generated from the control plane's OpenAPI document by `npm run gen:api`: do not edit. */\n\n";
// A field with a default may be left out of a request: keep it optional.
const ast = await openapiTS(document, { defaultNonNullable: false, silent: true });
const source = header + astToString(ast);
const generated = await format(source, { ...(await resolveConfig(target)), filepath: target });

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // Missing counts as stale.
  }
  if (committed !== generated) {
    console.error("web/src/api/schema.d.ts is stale (the API changed): run npm run gen:api in web/");
    process.exit(1);
  }
} else {
  writeFileSync(target, generated);
}
