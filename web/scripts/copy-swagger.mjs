// After `vite build`: copy the pinned swagger-ui (npm package swagger-ui-dist, exact version
// in package.json) into the build, so `/api/docs` loads it from our own origin under the
// app's CSP instead of from a CDN. Served by oqto/control/api/docs.py, pre-compressed.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

const require = createRequire(import.meta.url);
const source = dirname(require.resolve("swagger-ui-dist/package.json"));
const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
const target = new URL("../../src/oqto/web_dist/swagger-ui/", import.meta.url).pathname;

mkdirSync(target, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
  copyFileSync(join(source, name), join(target, name));
  if (name.includes("."))
    writeFileSync(join(target, `${name}.gz`), gzipSync(readFileSync(join(source, name)), { level: 9 }));
}
writeFileSync(join(target, "VERSION"), `${version}\n`);
console.log(`swagger-ui ${version} copied to web_dist/swagger-ui/`);
