// Installs web/node_modules with `npm ci` when it is missing or older than
// package-lock.json (npm writes node_modules/.package-lock.json on install).
// Plain Node, no dependencies: it runs before anything is installed.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const lock = join(here, 'package-lock.json');
const stamp = join(here, 'node_modules', '.package-lock.json');
if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) process.exit(0);
console.log('web: npm ci (node_modules missing or older than package-lock.json)');
const r = spawnSync('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('web: npm ci failed; the console needs the npm registry once (or configure with -DSK_UI=OFF)');
  process.exit(r.status || 1);
}
