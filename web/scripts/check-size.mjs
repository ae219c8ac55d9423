// After `vite build`: report the initial JavaScript (what index.html loads before the app
// can render) gzipped, fail the build above the budget, and write a .gz beside every
// text asset so the server can send it pre-compressed (see oqto/control/web.py).
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 350;
const dist = new URL("../../src/oqto/web_dist/", import.meta.url).pathname;
const assets = join(dist, "assets");

const gz = (path) => gzipSync(readFileSync(path), { level: 9 });

for (const name of readdirSync(assets)) {
  if (/\.(js|css|svg|json)$/.test(name)) writeFileSync(join(assets, `${name}.gz`), gz(join(assets, name)));
}

const html = readFileSync(join(dist, "index.html"), "utf8");
const initial = new Set();
for (const match of html.matchAll(/<script[^>]+src="\/([^"]+\.js)"/g)) initial.add(match[1]);
for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+\.js)"/g))
  initial.add(match[1]);

let total = 0;
for (const file of initial) {
  const size = gz(join(dist, file)).length;
  total += size;
  console.log(`  ${file}: ${(size / 1024).toFixed(1)} KB gzipped`);
}
let lazy = 0;
for (const name of readdirSync(assets)) {
  if (name.endsWith(".js") && !initial.has(`assets/${name}`)) lazy += gz(join(assets, name)).length;
}
console.log(
  `initial JS: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB); lazy chunks: ${(lazy / 1024).toFixed(1)} KB`,
);
if (total > BUDGET_KB * 1024) {
  console.error(`initial JS is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
