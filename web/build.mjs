// Builds the console into web/dist: esbuild bundles src/main.tsx (with its CSS)
// into content-hashed files under dist/assets/, and index.html names them.
// No inline script (the server's CSP forbids it), nothing loaded from elsewhere.
// Prints every file's size and the whole front end's gzipped size (budget 400 KB).
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
// node build.mjs [OUTDIR]: web/dist unless another directory is named (CMake uses its build dir)
const dist = process.argv[2] ? resolve(process.argv[2]) : join(here, 'dist');
const BUDGET = 400 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, 'src/main.tsx') },
  outdir: join(dist, 'assets'),
  entryNames: '[name].[hash]',
  chunkNames: 'chunk.[hash]',
  assetNames: '[name].[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: false,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

let js = '', css = '';
for (const [out, meta] of Object.entries(result.metafile.outputs)) {
  // (a dynamic import is an entry point too: the page's own script is the one named app)
  if (meta.entryPoint && /(^|\/)app\.[^/]*\.js$/.test(out)) js = relative(dist, resolve(out));
  if (out.endsWith('.css') && /app\./.test(out)) css = relative(dist, resolve(out));
}
if (!js || !css) throw new Error('build: entry script or stylesheet missing from the esbuild output');

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>schakel console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/${css}">
<script type="module" src="/ui/${js}"></script>
</head>
<body>
<noscript>The schakel console needs JavaScript. The same data is available over TAXII 2.1.</noscript>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(join(dist, 'index.html'), html);

function walk(d) {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
let raw = 0, gz = 0;
for (const f of walk(dist).sort()) {
  const b = readFileSync(f);
  const g = gzipSync(b, { level: 9 }).length;
  raw += b.length; gz += g;
  console.log(`  ${relative(dist, f).padEnd(36)} ${String(b.length).padStart(8)} B  ${String(g).padStart(7)} B gzipped`);
}
console.log(`web: front end ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (gz > BUDGET) {
  console.error('web: over the 400 KB gzipped budget');
  process.exit(1);
}
