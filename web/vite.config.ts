import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The build lands inside the Python package so the wheel ships it (no Node at run time).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../src/oqto/web_dist",
    emptyOutDir: true,
    // Never inline assets as data: URIs; the CSP only allows files from our origin.
    assetsInlineLimit: 0,
    target: "es2022",
    // Every supported browser has modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` against a running `oqto serve` on the default port.
    proxy: { "/api": { target: "http://127.0.0.1:3000", ws: true } },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
