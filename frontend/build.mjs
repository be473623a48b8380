// Builds src/ into ONE ES module, custom_components/concierge/frontend/concierge-panel.js.
// Deterministic: same source and lockfile → same bytes (no timestamps, no absolute paths).
// `node build.mjs <outfile>` writes elsewhere (the test that checks the committed bundle).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2]
  ? path.resolve(process.argv[2])
  : path.join(here, "..", "custom_components", "concierge", "frontend", "concierge-panel.js");

await build({
  absWorkingDir: here,
  entryPoints: ["src/panel.js"],
  outfile,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  sourcemap: false,
  charset: "utf8",
  logLevel: "warning",
});
