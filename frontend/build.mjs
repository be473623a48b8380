// Builds src/ into two ES modules in custom_components/concierge/frontend/: the Access panel
// (concierge-panel.js, from src/panel.js) and the door card (concierge-door-card.js, from
// src/door-card.js), each one self-contained file.
// Deterministic: same source and lockfile → same bytes (no timestamps, no absolute paths).
// `node build.mjs <outdir>` writes both into another folder (the test that checks the bundles).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2]
  ? path.resolve(process.argv[2])
  : path.join(here, "..", "custom_components", "concierge", "frontend");

const BUNDLES = {
  "src/panel.js": "concierge-panel.js",
  "src/door-card.js": "concierge-door-card.js",
};

// One after the other, in a fixed order: the same bytes on every run.
for (const [entry, name] of Object.entries(BUNDLES)) {
  await build({
    absWorkingDir: here,
    entryPoints: [entry],
    outfile: path.join(outdir, name),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    legalComments: "eof",
    sourcemap: false,
    charset: "utf8",
    logLevel: "warning",
  });
}
