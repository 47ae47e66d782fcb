// The analyst console in a real browser: Debian's Chromium, headless, driven
// by puppeteer-core from Node's test runner, against a real `schakel serve`
// on a free port of 127.0.0.1 holding the demo data (and ATT&CK and MISP's
// threat-actor galaxy when ../shared/data has them).  Every step waits on an
// event (a selector, a response, a condition), never on a fixed sleep.
// A screenshot of each page goes to SK_ARTIFACTS (CTest: the build dir's
// browser-artifacts/).
//
//   SCHAKEL_BIN=build/schakel node tests/browser/console.test.mjs
//
// Exit status 77 (a skip for CTest) when Chromium or web/node_modules is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = resolve(process.env.SCHAKEL_BIN || join(ROOT, 'build/schakel'));
const CHROMIUM = process.env.SK_CHROMIUM || '/usr/bin/chromium';
const SHARED = resolve(process.env.SK_SHARED || join(ROOT, '../shared'));
const ART = resolve(process.env.SK_ARTIFACTS || join(tmpdir(), 'schakel-browser-artifacts'));
// a safety net on a loaded machine, not a timing check: every wait ends on its event
const WAIT = 120000;

function skipAll(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

if (!existsSync(CHROMIUM)) skipAll(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set SK_CHROMIUM)`);
let puppeteer;
try {
  const req = createRequire(join(ROOT, 'web/package.json'));
  puppeteer = (await import(pathToFileURL(req.resolve('puppeteer-core')).href)).default;
} catch {
  skipAll('no puppeteer-core in web/node_modules (cd web && npm ci)');
}
if (process.env.SK_UI === 'OFF') skipAll('built with -DSK_UI=OFF: no console to test');
if (!existsSync(BIN)) skipAll(`no schakel binary at ${BIN} (set SCHAKEL_BIN)`);

/* ---- the node ------------------------------------------------------------------ */

const dir = mkdtempSync(join(tmpdir(), 'sk-browser-'));
const DB = join(dir, 'node.db');

function sk(...args) {
  const opts = typeof args[args.length - 1] === 'object' ? args.pop() : {};
  const r = spawnSync(BIN, ['--db', DB, ...args], { encoding: 'utf8', input: opts.input, cwd: dir, maxBuffer: 64 << 20 });
  if (r.status !== 0 && !opts.mayFail) throw new Error(`schakel ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r;
}

const VOLT = 'intrusion-set--58b6a012-3f93-5a0b-81a4-03ec8239010c';
const DRY_WELL = 'campaign--30ef0bc4-eb99-542f-ad66-d023218470b3';
const ATTACK = join(SHARED, 'data/stix/enterprise-attack-18.1.stix20.json');
const GALAXIES = join(SHARED, 'data/galaxies');
const have = { attack: false, galaxy: false };

function makeNode() {
  sk('init', '--name', 'National Cyber Centre (demo node)', '--sector', 'government-national', '--country', 'NL');
  const id = /\[(identity--[^\]]+)\]/.exec(sk('stats').stdout)[1];
  // the demo data as this node's own, as scripts/setup.sh publishes it
  for (const f of readdirSync(join(ROOT, 'demo')).filter((x) => x.endsWith('.json'))) {
    const out = join(dir, 'own-' + f);
    const r = spawnSync('python3', [join(ROOT, 'scripts/publish-as.py'), join(ROOT, 'demo', f), id], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error('publish-as.py: ' + r.stderr);
    writeFileSync(out, r.stdout);
    sk('import', '--quiet', '--collection', 'demo', out);
  }
  sk('partner', 'add', 'Partner CERT (demo)', '--country', 'BE', '--sector', 'government-national');
  sk('collection', 'grant', 'Partner CERT (demo)', 'demo', '--read', '--write', '--amber');
  sk('account', 'add', 'partner', '--partner', 'Partner CERT (demo)', '--password-stdin', { input: 'demo-password\n' });
  sk('account', 'add', 'analyst', '--role', 'analyst', '--password-stdin', { input: 'demo-password\n' });
  sk('account', 'add', 'admin', '--role', 'admin', '--password-stdin', { input: 'demo-admin\n' });
  // the demo utility's logs: sightings made here
  sk('scan', '--output', join(dir, 'hits.jsonl'), join(ROOT, 'demo/logs/utility-dns.log'), join(ROOT, 'demo/logs/utility-eve.json'), { mayFail: true });
  if (existsSync(ATTACK)) {
    sk('import', '--quiet', '--collection', 'attack', ATTACK);
    have.attack = true;
  } else console.log(`SKIP (part): no ATT&CK at ${ATTACK}: the technique search and the matrix are not checked`);
  if (existsSync(GALAXIES)) {
    const g = sk('galaxy', 'import', GALAXIES, { mayFail: true });
    if (g.status === 0) have.galaxy = true;
    else console.log(`SKIP (part): \`schakel galaxy import\` failed or is missing (exit ${g.status}): the actor filter for Russia is not checked\n${g.stderr.slice(0, 500)}`);
  } else console.log(`SKIP (part): no MISP galaxies at ${GALAXIES}: the actor filter for Russia is not checked`);
}

const servers = [];
function serve(...extra) {
  return new Promise((ok, fail) => {
    const p = spawn(BIN, ['--db', DB, 'serve', '--listen', '127.0.0.1:0', ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(p);
    let out = '', err = '';
    const timer = setTimeout(() => fail(new Error(`schakel serve did not say where it listens within ${WAIT / 1000} s: ` + err)), WAIT);
    p.stderr.on('data', (d) => { err += d; if (err.length > 1e6) err = err.slice(-1e5); });
    p.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)\n/.exec(out);
      if (m) { clearTimeout(timer); ok({ url: new URL(m[1]).origin, proc: p, log: () => err }); }
    });
    p.on('exit', (code) => { clearTimeout(timer); fail(new Error(`schakel serve exited (${code}): ${err.slice(-2000)}`)); });
  });
}

/* ---- the browser --------------------------------------------------------------- */

let browser, srv;
const problems = []; // page errors, CSP violations, requests elsewhere

async function newPage(base = srv.url) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.setDefaultTimeout(WAIT);
  const origin = new URL(base).origin;
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/.test(t)) problems.push(`CSP on ${page.url()}: ${t}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`request elsewhere: ${u}`);
  });
  return page;
}

// SK_DOC_SHOTS=DIR also writes the first screen of the pages docs/console.md shows, as JPEG
const DOC_SHOTS = process.env.SK_DOC_SHOTS;
// only pages of the project's own demo data (the APT28 pages show ../shared's data)
const DOC_PAGES = ['02-overview', '02-overview-dark', '04-object', '07-sector-water', '08-timeline', '11-admin'];

async function shot(page, name) {
  mkdirSync(ART, { recursive: true });
  await page.screenshot({ path: join(ART, name + '.png'), fullPage: true });
  if (DOC_SHOTS && DOC_PAGES.includes(name)) {
    mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: join(DOC_SHOTS, name + '.jpg'), type: 'jpeg', quality: 70 });
  }
}

async function go(page, path) {
  await page.goto(srv.url + path, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('main h1');
}

/* the page's main text once no "Loading…" is left in it */
async function settled(page) {
  await page.waitForFunction(() => {
    const m = document.querySelector('main');
    return m && !/Loading…/.test(m.innerText);
  });
  return page.$eval('main', (m) => m.innerText);
}

async function login(page, user, password) {
  await page.goto(srv.url + '/ui/', { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('#login-user');
  await page.type('#login-user', user);
  await page.type('#login-password', password);
  const answer = page.waitForResponse((r) => r.url().endsWith('/ui/api/login'));
  await page.keyboard.press('Enter');
  const r = await answer;
  if (r.status() === 200) await page.waitForSelector('#logout');
  return r.status();
}

/* an API call from inside the page, with the page's cookies */
function pageFetch(page, path, init = {}) {
  return page.evaluate(async (p, i) => {
    const r = await fetch(p, { credentials: 'same-origin', ...i });
    return { status: r.status, text: await r.text() };
  }, path, init);
}

async function csrfOf(page) {
  const r = await pageFetch(page, '/ui/api/me');
  return JSON.parse(r.text).csrf;
}

/* RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret, now */
function totp(b32) {
  let bits = '';
  for (const ch of b32.replace(/=+$/, '')) bits += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const ctr = Buffer.alloc(8);
  ctr.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const h = createHmac('sha1', key).update(ctr).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

/* Answers of a hub with a network and a fleet, for the views' rendering (the
   API's own answers are checked in tests/integration through the binary). */
const NETWORK = {
  schema: 'schakel.cooperation-network/1', node: { identity: 'identity--00000000-0000-4000-8000-000000000001' },
  period: { since: null, until: '2026-12-08T00:00:00Z' }, generated: '2026-12-08T00:00:00Z',
  summaries: [{ node: 'Relay CERT', identity: 'identity--00000000-0000-4000-8000-000000000002', summary_ref: 'x-schakel-coop-summary--1a2b0000-0000-4000-8000-000000000000', verdict: 'verified' }],
  unverified: [{ node: 'Unknown sender', identity: 'identity--00000000-0000-4000-8000-000000000009', summary_ref: 'x-schakel-coop-summary--9f000000-0000-4000-8000-000000000000', verdict: 'unsigned' }],
  superseded: [{ node: 'Relay CERT', summary_ref: 'x-schakel-coop-summary--0b1e0000-0000-4000-8000-000000000000' }],
  missing: [{ node: 'Grid operator', identity: 'identity--00000000-0000-4000-8000-000000000004' }],
  sightings: { here: 3, keyed_reported: 9, keyed_already_here: 2, distinct: 10, duplicates_removed: 2, unkeyed_not_deduplicated: 4, network_total: 14 },
  protection: [{ producer: '(this node)', detected_by: 'Water utility', sightings: 7 }, { producer: 'Relay CERT', detected_by: 'Water utility', sightings: 2 }, { producer: '(this node)', detected_by: '(anonymous)', sightings: 1 }],
  protection_by_sector: [{ producer: '(this node)', sector: 'utilities', sightings: 7 }],
  anonymous_sightings: [{ sector: 'other', country: null, sightings: 1 }],
  chain: {
    slowest_hops: [{ node: 'Water utility', time_to_share_s: { n: 3, median: 42.5, p90: 60, max: 61 }, last_hop_s: { n: 3, median: 20, p90: 30, max: 31 }, received_relayed: 2 },
      { node: 'Relay CERT', time_to_share_s: { n: 3, median: 3.5, p90: 4, max: 4 }, last_hop_s: { n: 3, median: 3.5, p90: 4, max: 4 }, received_relayed: 0 }],
    never_report_back: [{ node: 'Grid operator', objects_sent: 5 }],
  },
  nodes: [
    { node: 'Relay CERT', identity: 'identity--00000000-0000-4000-8000-000000000002', summaries: 1, objects_received_from_hub: 12, received_relayed: 0, time_to_share_s: { n: 3, median: 3.5 }, last_hop_s: { n: 3, median: 3.5 }, link: { availability_pct: 99.5 }, capacity: { indicators_matchable: 12, indicators_cannot_match: 0 }, keyed_sightings: 4 },
    { node: 'Water utility', identity: 'identity--00000000-0000-4000-8000-000000000003', summaries: 1, objects_received_from_hub: 10, received_relayed: 2, time_to_share_s: { n: 3, median: 42.5 }, last_hop_s: { n: 3, median: 20 }, link: { availability_pct: 75 }, capacity: { indicators_matchable: 8, indicators_cannot_match: 2 }, keyed_sightings: 5, log_sources: ['suricata-eve'] },
  ],
  own: { sightings_here: 3 },
  cannot_know: ['what nodes without consent did'],
  log_sources: [{ source: 'zeek-conn', nodes: 1 }],
};
const FLEET = {
  nats: 'nats://127.0.0.1:4222', hub: true,
  sensors: [
    { name: 'ministry-1', audience: 'gov', public_key: 'UA', created: '2026-12-01T00:00:00Z', last_seen: '2026-12-07T10:00:00Z', sightings: 4, published: 100, applied: 100, lag: 0, consumer_active: '2026-12-07T10:00:00Z' },
    { name: 'water-2', audience: 'water', public_key: 'UB', created: '2026-12-01T00:00:00Z', last_seen: null, sightings: 0, published: 5000, applied: 1000, lag: 4000, consumer_active: '2026-12-06T10:00:00Z' },
    { name: 'grid-3', audience: 'grid', public_key: 'UC', created: '2026-12-01T00:00:00Z', last_seen: null, sightings: 0, published: 50, applied: null, lag: null, consumer_active: null },
  ],
};

/* ---- the tests ----------------------------------------------------------------- */

before(async () => {
  makeNode();
  srv = await serve();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
  console.log(`node ${srv.url}, screenshots in ${ART}`);
  await partnerPosts();
});

/* The partner CERT posts an indicator over TAXII: something received from a
   named partner for the overview (wait until the node has it). */
async function partnerPosts() {
  const pid = /^(identity--\S+)\s+Partner CERT \(demo\)/m.exec(sk('partner', 'list').stdout)[1];
  const cid = /^(\S+)\s+demo\s/m.exec(sk('collection', 'list').stdout)[1];
  const now = new Date().toISOString();
  const ind = {
    type: 'indicator', spec_version: '2.1', id: 'indicator--5b1e7c57-4b0e-4c55-9a62-0d5f2c0b7a11', created: now, modified: now,
    created_by_ref: pid, name: 'KETTLEWIPE staging host seen by the partner CERT', pattern: "[ipv4-addr:value = '198.51.100.77']",
    pattern_type: 'stix', valid_from: now, indicator_types: ['malicious-activity'],
    object_marking_refs: ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb'],
  };
  const r = await fetch(`${srv.url}/api/collections/${cid}/objects/`, {
    method: 'POST', body: JSON.stringify({ objects: [ind] }),
    headers: {
      Accept: 'application/taxii+json;version=2.1', 'Content-Type': 'application/taxii+json;version=2.1',
      Authorization: 'Basic ' + Buffer.from('partner:demo-password').toString('base64'),
    },
  });
  assert.ok(r.status === 202 || r.status === 200, `the partner's TAXII POST: ${r.status} ${await r.text()}`);
  for (let i = 0; i < 300; i++) { // the node stores it (TAXII POST may finish after the answer): wait for the event
    if (sk('get', ind.id, { mayFail: true }).status === 0) return;
    await new Promise((ok) => setImmediate(ok));
  }
  throw new Error("the partner's indicator was not stored");
}

after(async () => {
  if (browser) await browser.close();
  for (const p of servers) p.kill('SIGTERM');
  if (!process.env.SK_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
});

describe('the console', { concurrency: false }, () => {
  let page; // the analyst's

  test('/ redirects to the console, which asks for a login; a wrong password is refused with a message', async () => {
    page = await newPage();
    const r = await page.goto(srv.url + '/', { waitUntil: 'domcontentloaded' });
    assert.match(page.url(), /\/ui\/?$/);
    assert.equal(r.status(), 200);
    await page.waitForSelector('#login-user');
    await shot(page, '01-login');
    // the labels name every field
    const labels = await page.$$eval('form label', (ls) => ls.map((l) => l.textContent));
    assert.ok(labels.some((l) => /User/.test(l)) && labels.some((l) => /Password/.test(l)) && labels.some((l) => /TOTP/.test(l)));
    assert.equal(await login(page, 'analyst', 'wrong-password'), 401);
    await page.waitForSelector('#login-error');
    assert.ok((await page.$eval('#login-error', (e) => e.textContent)).length > 0);
    await shot(page, '01-login-error');
  });

  test('the analyst logs in and sees the overview with its data', async () => {
    assert.equal(await login(page, 'analyst', 'demo-password'), 200);
    await page.waitForSelector('#received-partner');
    const text = await settled(page);
    for (const s of ['What arrived, per partner', 'What arrived, per type', 'Sightings', 'Detection delay', 'Peers', 'Live alerts'])
      assert.ok(text.includes(s), `overview shows "${s}"`);
    // the demo data arrived here: some type is counted
    // the partner CERT's indicator arrived, and the demo logs' alerts are listed
    assert.match(await page.$eval('#received-partner', (e) => e.innerText), /Partner CERT \(demo\)/);
    assert.match(await page.$eval('#received-type', (e) => e.innerText), /indicator/);
    assert.match(await page.$eval('#alerts', (e) => e.innerText), /KETTLEWIPE/);
    // two clicks at most: the nav bar reaches every page
    const nav = await page.$$eval('nav[aria-label=Main] a', (as) => as.map((a) => a.textContent));
    for (const p of ['Overview', 'Search', 'Graph', 'Actors', 'Sectors', 'Timeline', 'Create']) assert.ok(nav.includes(p), `nav has ${p}`);
    assert.ok(!nav.includes('Administration'), 'an analyst has no administration');
    await shot(page, '02-overview');
  });

  test('the overview polls for live alerts every 5 s', async () => {
    const polled = await page.waitForResponse((r) => r.url().includes('/ui/api/alerts'), { timeout: WAIT });
    assert.equal(polled.status(), 200);
  });

  test('keyboard: the skip link comes first and focus is visible', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#received-partner');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
    assert.match(first || '', /Skip to content/);
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'main');
  });

  test('the dark theme is remembered', async () => {
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.click('button[aria-label^="Switch to the"]');
    const now = await page.evaluate(() => document.documentElement.dataset.theme);
    assert.notEqual(now, before);
    const t0 = Date.now();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#received-partner');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), now);
    await settled(page);
    console.log(`overview rendered with its data in ${Date.now() - t0} ms after a reload (a figure, not a check)`);
    await shot(page, `02-overview-${now}`);
    await page.click('button[aria-label^="Switch to the"]');
  });

  test('search finds the demo intrusion set by alias, with filters and an export link', async () => {
    await go(page, '/ui/search?q=' + encodeURIComponent('Demo Bear'));
    const text = await settled(page);
    assert.ok(text.includes('VOLT KETTLE'), 'VOLT KETTLE found by its alias');
    // the filters come from the facets
    const types = await page.$$eval('select[name=type] option', (os) => os.map((o) => o.value));
    assert.ok(types.includes('indicator'));
    const exp = await page.$eval('#export', (a) => a.getAttribute('href'));
    assert.match(exp, /\/ui\/api\/export\?q=Demo\+Bear/);
    const r = await pageFetch(page, exp);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).type, 'bundle');
    // TLP badges on every result
    const rows = await page.$$eval('table.results tbody tr', (rs) => rs.map((r) => !!r.querySelector('.tlp')));
    assert.ok(rows.length > 0 && rows.every(Boolean), 'every result has a TLP badge');
    await shot(page, '03-search');
  });

  test('search finds an ATT&CK technique by its id (T1566)', async (t) => {
    if (!have.attack) return t.skip('no ATT&CK in ../shared/data');
    await go(page, '/ui/search');
    await page.type('#search-q', 'T1566');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.search.includes('q=T1566'));
    const text = await settled(page);
    assert.match(text, /Phishing/);
    await shot(page, '03-search-T1566');
  });

  test('the object page shows every property, provenance, versions, relationships and sightings', async () => {
    await go(page, '/ui/object/' + VOLT);
    const text = await settled(page);
    for (const s of ['VOLT KETTLE', 'Provenance', 'Properties', 'Versions', 'Relationships from it', 'Relationships to it', 'Sightings', 'Correlation', 'signature:'])
      assert.ok(text.includes(s), `object page shows "${s}"`);
    assert.ok(text.includes('Demo Bear'), 'aliases are among the properties');
    assert.ok(await page.$('.badges .tlp'), 'a TLP badge');
    await shot(page, '04-object');
    // a campaign with two versions: a diff between them
    await go(page, '/ui/object/' + DRY_WELL);
    await settled(page);
    await page.waitForSelector('#versions details');
    const n = await page.$$eval('#versions details', (d) => d.length);
    assert.ok(n >= 2, 'two versions of Operation DRY WELL');
    assert.ok(await page.$('#versions .diff .d-add, #versions .diff .d-del'), 'a line diff between the versions');
    await shot(page, '04-object-versions');
  });

  test('the graph starts from an object and expands when a node is clicked', async () => {
    await go(page, '/ui/graph?id=' + VOLT);
    await page.waitForFunction(() => /^\d+ nodes/.test(document.getElementById('graph-status')?.textContent || ''));
    const count = () => page.$eval('#graph-status', (e) => Number(e.textContent.split(' ')[0]));
    const n0 = await count();
    assert.ok(n0 > 1, 'the intrusion set and its neighbours');
    // a neighbour that brings new nodes: the campaign
    const pos = await page.$eval('#graph', (el, id) => {
      const cy = el.__cy;
      const node = cy.getElementById(id).nonempty() ? cy.getElementById(id) : cy.nodes().not('.expanded')[0];
      cy.center(node);
      const p = node.renderedPosition();
      const b = el.getBoundingClientRect();
      return { x: b.left + p.x, y: b.top + p.y };
    }, DRY_WELL);
    const expanded = page.waitForResponse((r) => r.url().includes('/ui/api/graph?id='));
    await page.mouse.click(pos.x, pos.y);
    await expanded;
    await page.waitForFunction((n) => Number(document.getElementById('graph-status').textContent.split(' ')[0]) > n, {}, n0);
    assert.ok((await count()) > n0);
    await shot(page, '05-graph');
  });

  test('the graph stays responsive for APT28 with its techniques', async (t) => {
    if (!have.attack) return t.skip('no ATT&CK in ../shared/data');
    const r = await pageFetch(page, '/ui/api/search?q=APT28&type=intrusion-set&limit=1');
    const hit = JSON.parse(r.text).results[0];
    assert.ok(hit, 'APT28 in the store');
    const t0 = Date.now();
    await go(page, '/ui/graph?id=' + encodeURIComponent(hit.id));
    await page.waitForFunction(() => /^\d+ nodes/.test(document.getElementById('graph-status')?.textContent || ''));
    const ms = Date.now() - t0;
    const n = await page.$eval('#graph-status', (e) => Number(e.textContent.split(' ')[0]));
    // a figure, not a check (timings belong in bench/, not in tests)
    console.log(`graph of APT28: ${n} nodes drawn in ${ms} ms`);
    assert.ok(n > 50, 'APT28 has many neighbours');
    await shot(page, '05-graph-apt28');
  });

  test('actors: the list, a filter, and a profile with the ATT&CK matrix', async () => {
    await go(page, '/ui/actors');
    await settled(page);
    await page.waitForSelector('#actor-table tbody tr');
    await shot(page, '06-actors');
    await page.type('#actor-q', 'KETTLE');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.search.includes('q=KETTLE'));
    let text = await settled(page);
    assert.ok(text.includes('VOLT KETTLE'), 'the demo intrusion set is found by name');
    await go(page, '/ui/actors/' + VOLT);
    text = await settled(page);
    for (const s of ['State attribution', 'Aliases', 'Campaigns', 'ATT&CK techniques']) assert.ok(text.includes(s), `profile shows "${s}"`);
    assert.ok(text.includes('Operation DRY WELL'), 'its campaign');
    if (have.attack) assert.ok(await page.$('.matrix .tactic'), 'tactics as columns');
    await shot(page, '06-actor-profile');
  });

  test('the actor filter finds APT28 for Russia', async (t) => {
    if (!have.attack || !have.galaxy) return t.skip('needs ATT&CK and the MISP galaxy import (../shared/data, schakel galaxy import)');
    await go(page, '/ui/actors');
    await page.type('#actor-country', 'RU');
    await page.click('form.filters button[type=submit]');
    await page.waitForFunction(() => location.search.includes('country=RU'));
    const text = await settled(page);
    assert.match(text, /APT28/);
    await shot(page, '06-actors-RU');
    await go(page, '/ui/actors?country=RU&sector=government');
    assert.match(await settled(page), /APT28/, 'APT28 for Russia and government');
    // its profile: techniques used are highlighted in the matrix
    const href = await page.$$eval('#actor-table a', (as) => as.find((a) => a.textContent === 'APT28')?.getAttribute('href'));
    assert.ok(href);
    await go(page, href);
    await settled(page);
    const used = await page.$$eval('.matrix .tech.used', (e) => e.length);
    assert.ok(used > 20, `APT28's techniques highlighted (${used})`);
    await shot(page, '06-actor-apt28');
  });

  test('sectors: cards, and the demo utility\'s sighting under water', async () => {
    await go(page, '/ui/sectors');
    let text = await settled(page);
    for (const s of ['Water', 'Energy', 'Government']) assert.ok(new RegExp(s, 'i').test(text), `a card for ${s}`);
    await shot(page, '07-sectors');
    await go(page, '/ui/sectors/water');
    text = await settled(page);
    assert.ok(await page.$('#sector-partners'), 'partners with sightings');
    assert.match(await page.$eval('#sector-partners', (e) => e.innerText), /Drinking-water utility/);
    await shot(page, '07-sector-water');
  });

  test('the timeline of the demo campaign', async () => {
    await go(page, '/ui/timeline?id=' + DRY_WELL);
    await settled(page);
    await page.waitForSelector('#timeline-events li');
    const n = await page.$$eval('#timeline-events li', (l) => l.length);
    assert.ok(n >= 2);
    await shot(page, '08-timeline');
  });

  test('cooperation: the partners\' figures, uPlot charts and what the node cannot know', async () => {
    await go(page, '/ui/cooperation');
    await settled(page);
    await page.waitForSelector('#coop-table');
    assert.match(await page.$eval('#coop-table', (e) => e.innerText), /Partner CERT \(demo\)/);
    await page.waitForSelector('#coop-volume .uplot');
    assert.match(await page.$eval('#coop-limits', (e) => e.innerText), /last hop/);
    await shot(page, '08-cooperation');
  });

  test('cooperation, the network view: this hub has no summaries yet, and says so', async () => {
    await go(page, '/ui/cooperation');
    await settled(page);
    const answer = page.waitForResponse((r) => r.url().includes('/ui/api/cooperation/network'));
    await page.click('#coop-view-network');
    assert.equal((await answer).status(), 200);
    await settled(page);
    await page.waitForSelector('#net-limits li');
    assert.match(await page.$eval('#net-nodes', (e) => e.innerText), /No verified summary/);
    assert.equal(await page.$eval('#coop-view-network', (e) => e.getAttribute('aria-pressed')), 'true');
  });

  test('cooperation, the network view of a hub with summaries: matrix, charts, lists, and a field it does not know', async () => {
    const m = await newPage();
    assert.equal(await login(m, 'analyst', 'demo-password'), 200);
    await m.setRequestInterception(true);
    m.on('request', (r) => {
      if (!r.url().includes('/ui/api/cooperation/network')) return r.continue();
      return r.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(NETWORK) });
    });
    await go(m, '/ui/cooperation?view=network');
    await settled(m);
    await m.waitForSelector('#coop-matrix');
    const matrix = await m.$eval('#coop-matrix', (e) => e.innerText);
    assert.match(matrix, /Relay CERT/);
    assert.match(matrix, /Water utility/);
    assert.match(matrix, /\b7\b/);
    await m.waitForSelector('#net-availability .uplot');
    await m.waitForSelector('#net-hops .uplot');
    assert.match(await m.$eval('#net-missing-list', (e) => e.innerText), /Grid operator/);
    assert.match(await m.$eval('#net-unverified-list', (e) => e.innerText), /unsigned/);
    assert.match(await m.$eval('#net-superseded-list', (e) => e.innerText), /x-schakel-coop-summary--0b1e/);
    // fields the report gains later (another change adds log sources) are shown, not dropped
    assert.match(await m.$eval('#net-other', (e) => e.innerText), /zeek-conn/);
    assert.match(await m.$eval('#net-nodes-table', (e) => e.innerText), /log_sources/);
    await shot(m, '08-cooperation-network');
    await m.browserContext().close();
  });

  test('peers: the fleet\'s sensors, empty when the node runs no fleet, lag highlighted when it does', async () => {
    await go(page, '/ui/peers');
    await settled(page);
    assert.match(await page.$eval('#fleet', (e) => e.innerText), /runs no sensor fleet/);
    const m = await newPage();
    assert.equal(await login(m, 'analyst', 'demo-password'), 200);
    await m.setRequestInterception(true);
    m.on('request', (r) => {
      if (!r.url().endsWith('/ui/api/fleet')) return r.continue();
      return r.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(FLEET) });
    });
    await go(m, '/ui/peers');
    await settled(m);
    await m.waitForSelector('#fleet-table');
    const rows = await m.$$eval('#fleet-table tbody tr', (trs) => trs.map((tr) => ({ text: tr.innerText, lag: tr.children[3].className })));
    assert.equal(rows.length, 3);
    assert.match(rows[0].text, /ministry-1/);
    assert.equal(rows[0].lag, '', 'no lag, no highlight');
    assert.equal(rows[1].lag, 'lag-high', 'far behind: highlighted');
    assert.match(rows[2].text, /unknown/);
    assert.match(rows[2].text, /never/);
    await shot(m, '14-peers-fleet');
    await m.browserContext().close();
  });

  test('the attribution dossier of VOLT KETTLE, and its HTML export requests nothing', async () => {
    await go(page, '/ui/dossier?subject=' + encodeURIComponent('VOLT KETTLE'));
    await settled(page);
    await page.waitForSelector('#dossier-agree');
    assert.match(await page.$eval('#dossier-sure', (e) => e.textContent), /attributed to (KETTLE COLLECTIVE|Republic of Examplia)/);
    const href = await page.$eval('#dossier-export a', (a) => a.getAttribute('href'));
    assert.match(href, /format=html/);
    await shot(page, '12-dossier');
    // the exported document, opened on its own: it asks for nothing from anywhere
    const html = await page.evaluate(async (h) => (await fetch(h, { credentials: 'same-origin' })).text(), href);
    assert.match(html, /Attribution dossier: VOLT KETTLE/);
    const doc = await browser.newPage();
    const requests = [];
    doc.on('request', (r) => requests.push(r.url()));
    await doc.setContent(html, { waitUntil: 'load' });
    assert.deepEqual(requests.filter((u) => !u.startsWith('data:') && u !== 'about:blank'), []);
    await doc.close();
  });

  test('an analyst writes a note on an object, signed by the node', async () => {
    await go(page, '/ui/create?type=note&ref=' + VOLT);
    await page.waitForSelector('#create-form textarea[name=content]');
    await shot(page, '09-create-note');
    await page.type('#create-form textarea[name=content]', 'Seen probing our historian, browser test.');
    const created = page.waitForResponse((r) => r.url().endsWith('/ui/api/objects') && r.request().method() === 'POST');
    await page.click('#create-form button[type=submit]');
    const r = await created;
    assert.equal(r.status(), 201, await r.text());
    await page.waitForFunction(() => location.pathname.startsWith('/ui/object/note--'));
    const text = await settled(page);
    assert.match(text, /Seen probing our historian/);
    await shot(page, '09-note');
    // made here, so it can be edited: a new version, signed, with a diff
    await page.click('#edit');
    await page.waitForSelector('textarea[name=object]');
    await page.$eval('textarea[name=object]', (t) => {
      const o = JSON.parse(t.value);
      o.content = 'Seen probing our historian twice, browser test.';
      t.value = JSON.stringify(o, null, 2);
      t.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const put = page.waitForResponse((r) => r.url().includes('/ui/api/objects/note--') && r.request().method() === 'PUT');
    await page.click('form.form button[type=submit]');
    const pr = await put;
    assert.equal(pr.status(), 200, await pr.text());
    await page.waitForFunction(() => location.pathname.startsWith('/ui/object/note--'));
    await settled(page);
    await page.waitForSelector('#versions .diff .d-add');
    assert.match(await page.$eval('#versions', (e) => e.innerText), /twice/);
    assert.match(await page.$eval('.badges', (e) => e.innerText), /signature: verified/);
    await shot(page, '09-note-edited');
  });

  test('CSRF: a state change without the token, with a wrong token, or with Basic credentials is refused', async () => {
    const body = JSON.stringify({ object: { type: 'note', content: 'csrf', object_refs: [VOLT] } });
    const none = await pageFetch(page, '/ui/api/objects', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.ok(none.status === 403 || none.status === 401, `no token: ${none.status}`);
    const wrong = await pageFetch(page, '/ui/api/objects', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'x'.repeat(43) }, body });
    assert.ok(wrong.status === 403 || wrong.status === 401, `wrong token: ${wrong.status}`);
    assert.ok(JSON.parse(wrong.text).error, 'a JSON error says why');
    const basic = await fetch(srv.url + '/ui/api/objects', {
      method: 'POST', body,
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + Buffer.from('analyst:demo-password').toString('base64') },
    });
    assert.ok(basic.status === 403 || basic.status === 401, `Basic: ${basic.status}`);
    // reads do take Basic credentials (scripts)
    const read = await fetch(srv.url + '/ui/api/objects/' + VOLT, { headers: { Authorization: 'Basic ' + Buffer.from('analyst:demo-password').toString('base64') } });
    assert.equal(read.status, 200);
    // a cross-site form post would carry no token: the same refusal, and the right token works
    const ok = await pageFetch(page, '/ui/api/objects', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': await csrfOf(page) }, body });
    assert.equal(ok.status, 201, ok.text);
  });

  test('logout ends the session', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login-user');
    const me = await pageFetch(page, '/ui/api/me');
    assert.equal(me.status, 401);
    await go(page, '/ui/search');
    await page.waitForSelector('#login-user');
    await page.browserContext().close();
  });

  test('an expired session is refused and the console asks for a login again', async () => {
    const short = await serve('--ui-idle', '1');
    const p = await newPage(short.url);
    await p.goto(short.url + '/ui/', { waitUntil: 'domcontentloaded' });
    await p.waitForSelector('#login-user');
    await p.type('#login-user', 'analyst');
    await p.type('#login-password', 'demo-password');
    await p.keyboard.press('Enter');
    await p.waitForSelector('#logout');
    // the session ends after 1 s unused: wait for the server to say so
    // (polling slower than the idle time: each call with a live session keeps it alive)
    await p.waitForFunction(async () => (await fetch('/ui/api/me', { credentials: 'same-origin' })).status === 401, { polling: 2000, timeout: WAIT });
    const body = JSON.parse((await pageFetch(p, '/ui/api/me')).text);
    assert.ok(body.error);
    // the next page's call meets the 401 (unless the alerts poll met it first)
    await p.evaluate(() => (document.querySelector('nav[aria-label=Main] a[href="/ui/search"]'))?.click());
    await p.waitForSelector('#login-user');
    assert.match(await p.$eval('main', (m) => m.innerText), /session has ended/);
    await shot(p, '10-session-expired');
    await p.browserContext().close();
    short.proc.kill('SIGTERM');
  });

  test('an admin creates a partner, an account and a grant from the console', async () => {
    const a = await newPage();
    assert.equal(await login(a, 'admin', 'demo-admin'), 200);
    await a.click('nav[aria-label=Main] a[href="/ui/admin"]');
    await a.waitForSelector('#partner-form');
    await settled(a);
    await shot(a, '11-admin');

    // a partner
    await a.type('#partner-form input[name=name]', 'Water Board (test)');
    await a.type('#partner-form input[name=country]', 'NL');
    await a.type('#partner-form input[name=sectors]', 'water');
    let posted = a.waitForResponse((r) => r.url().endsWith('/ui/api/admin/partners') && r.request().method() === 'POST');
    await a.click('#partner-form button[type=submit]');
    assert.equal((await posted).status(), 201);
    await a.waitForFunction(() => document.getElementById('partner-table')?.innerText.includes('Water Board (test)'));

    // an account of that partner, with a generated password shown once
    await a.waitForFunction(() => [...document.querySelectorAll('#account-form select[name=partner] option')].some((o) => o.value === 'Water Board (test)'));
    await a.type('#account-form input[name=name]', 'waterboard');
    await a.select('#account-form select[name=partner]', 'Water Board (test)');
    posted = a.waitForResponse((r) => r.url().endsWith('/ui/api/admin/accounts') && r.request().method() === 'POST');
    await a.click('#account-form button[type=submit]');
    assert.equal((await posted).status(), 201);
    await a.waitForSelector('#secret-value');
    const pw = await a.$eval('#secret-value', (e) => e.textContent);
    assert.ok(pw.length >= 12, 'a generated password');
    await a.waitForFunction(() => document.getElementById('account-table')?.innerText.includes('waterboard'));

    // a grant: read on the demo collection
    const box = 'input[type=checkbox][name="demo|Water Board (test)|read"]';
    await a.waitForSelector(box);
    posted = a.waitForResponse((r) => r.url().endsWith('/ui/api/admin/grants') && r.request().method() === 'POST');
    await a.click(box);
    assert.equal((await posted).status(), 200);
    await a.waitForFunction((s) => document.querySelector(s)?.checked === true, {}, box);
    await shot(a, '11-admin-after');

    // the CLI sees all three
    assert.match(sk('partner', 'list').stdout, /Water Board \(test\)/);
    assert.match(sk('account', 'list').stdout, /waterboard/);

    // and the new account logs in with the password shown once
    const w = await newPage();
    assert.equal(await login(w, 'waterboard', pw), 200);
    await w.browserContext().close();

    // a token for it, shown once, that reads the API; then revoked
    await a.click('button[aria-label="I have copied it"], .secret button').catch(() => {});
    await a.select('#tokens select[name=account]', 'waterboard');
    posted = a.waitForResponse((r) => r.url().endsWith('/ui/api/admin/tokens') && r.request().method() === 'POST');
    await a.click('#tokens button[type=submit]');
    assert.equal((await posted).status(), 201);
    await a.waitForSelector('#tokens #secret-value');
    const token = await a.$eval('#tokens #secret-value', (e) => e.textContent);
    const auth = { headers: { Authorization: 'Bearer ' + token } };
    assert.equal((await fetch(srv.url + '/ui/api/me', auth)).status, 200, 'the token reads');
    await a.waitForSelector('#token-table button.danger');
    posted = a.waitForResponse((r) => r.url().includes('/ui/api/admin/tokens/') && r.request().method() === 'DELETE');
    await a.click('#token-table button.danger');
    assert.equal((await posted).status(), 204);
    assert.equal((await fetch(srv.url + '/ui/api/me', auth)).status, 401, 'a revoked token reads nothing');

    // disabling the account ends its logins
    posted = a.waitForResponse((r) => r.url().endsWith('/ui/api/admin/accounts/waterboard') && r.request().method() === 'POST');
    await a.click('button[aria-label="Disable waterboard"]');
    assert.equal((await posted).status(), 200);
    await a.waitForSelector('button[aria-label="Enable waterboard"]');
    const d = await newPage();
    assert.equal(await login(d, 'waterboard', pw), 401);
    await d.browserContext().close();
    await shot(a, '11-admin-tokens');
    await a.browserContext().close();
  });

  test('a second factor: the login asks for the TOTP code, then takes it', async () => {
    sk('account', 'add', 'viewer1', '--role', 'viewer', '--password-stdin', { input: 'viewer-password-1\n' });
    const uri = sk('account', 'totp', 'viewer1', 'enable').stdout;
    const secret = /secret=([A-Z2-7]+)/.exec(uri)[1];
    const v = await newPage();
    assert.equal(await login(v, 'viewer1', 'viewer-password-1'), 401);
    await v.waitForSelector('#login-error');
    assert.match(await v.$eval('#login-error', (e) => e.textContent), /code/);
    // the focus moves to the code field once the page has rendered the answer
    await v.waitForFunction(() => document.activeElement && document.activeElement.id === 'login-totp');
    await shot(v, '01-login-totp');
    await v.type('#login-totp', totp(secret));
    const answer = v.waitForResponse((r) => r.url().endsWith('/ui/api/login'));
    await v.keyboard.press('Enter');
    assert.equal((await answer).status(), 200);
    await v.waitForSelector('#logout');
    const nav = await v.$$eval('nav[aria-label=Main] a', (as) => as.map((a) => a.textContent));
    assert.ok(!nav.includes('Create') && !nav.includes('Administration'), 'a viewer reads only');
    await v.browserContext().close();
  });

  test('an account sets up its own second factor in the console', async () => {
    sk('account', 'add', 'viewer2', '--role', 'viewer', '--password-stdin', { input: 'viewer-password-2\n' });
    const v = await newPage();
    assert.equal(await login(v, 'viewer2', 'viewer-password-2'), 200);
    await v.click('.who a.account');
    await v.waitForSelector('#totp-enrol');
    const enrolled = v.waitForResponse((r) => r.url().endsWith('/ui/api/totp/enroll'));
    await v.click('#totp-enrol');
    assert.equal((await enrolled).status(), 200);
    // the answer is in; the page shows it on its next render
    await v.waitForSelector('#totp-secret');
    const secret = await v.$eval('#totp-secret', (e) => e.textContent);
    await shot(v, '13-account-totp');
    await v.type('#totp-code', totp(secret));
    const confirmed = v.waitForResponse((r) => r.url().endsWith('/ui/api/totp/confirm'));
    await v.keyboard.press('Enter');
    assert.equal((await confirmed).status(), 204);
    await v.waitForFunction(() => document.getElementById('totp-state')?.textContent === 'on');
    await v.browserContext().close();
  });

  test('a partner sees its own view: no administration, no writing', async () => {
    const p = await newPage();
    assert.equal(await login(p, 'partner', 'demo-password'), 200);
    await settled(p);
    const nav = await p.$$eval('nav[aria-label=Main] a', (as) => as.map((a) => a.textContent));
    assert.ok(!nav.includes('Administration') && !nav.includes('Create'));
    const admin = await pageFetch(p, '/ui/api/admin/accounts');
    assert.equal(admin.status, 403);
    // the network view and the fleet are this node's own: not in a partner's menu, 403 from the API
    assert.ok(!nav.includes('Peers'));
    assert.equal((await pageFetch(p, '/ui/api/fleet')).status, 403);
    assert.equal((await pageFetch(p, '/ui/api/cooperation/network')).status, 403);
    await go(p, '/ui/cooperation');
    await settled(p);
    assert.equal(await p.$('#coop-view-network'), null, 'no network switch for a partner');
    await shot(p, '12-partner-overview');
    await p.browserContext().close();
  });

  test('no page error, CSP violation or request to another origin', () => {
    assert.deepEqual(problems, []);
  });
});
