/**
 * The coordination app's speed as a coordinator sees it: time to first useful paint of each view
 * (median of 10 loads, the app already logged in, its files in the browser cache), unthrottled
 * and on an emulated 4G link, and the FHIR requests each view makes. The server runs here on
 * PGlite with the demo pôle. Prints a Markdown table.
 *
 *   node --import tsx bench/app-paint.ts
 */
import { chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { DEMO } from '../seed/load.js';
import { startServer } from '../server/main.js';
import { freePort } from '../tests/harness.js';

const RUNS = 10;
// Lighthouse's "slow 4G": 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up.
const FOUR_G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  await build({ configFile: 'app/vite.config.ts', logLevel: 'warn' });
  const port = await freePort();
  const config = { ...loadConfig({}), port, origin: `http://127.0.0.1:${port}`, dataDir: 'memory://', seed: 'demo' as const, logLevel: 'silent' };
  const server = await startServer(config, createLogger('silent'), { demo: DEMO });
  const login = server.demoLogins?.find((l) => l.username === 'aurelie');
  if (!login) throw new Error('no demo login');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${config.origin}/app/`);
    await page.getByRole('button', { name: 'Travailler sur tout le pôle' }).click();
    await page.getByLabel('Identifiant').fill(login.username);
    await page.getByLabel('Mot de passe').fill(login.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    // The pôle's own app asks no consent of a user of one role (server/auth/login-flow.ts); the
    // versions before issue 27, measured for comparison, asked it.
    await page.waitForURL((url) => url.pathname !== '/auth/login');
    if (new URL(page.url()).pathname === '/auth/consent') {
      await page.locator('input[name=role]').first().check();
      await page.getByRole('button', { name: 'Autoriser' }).click();
    }
    await page.waitForSelector('body[data-ready]');
    // A PPCS patient: the fullest record of the demo; a family name for the patient search.
    const patient = (await page.locator('a[href^="#/patient/"]').first().getAttribute('href')) ?? '';
    const family = ((await page.locator('a[href^="#/patient/"]').first().textContent()) ?? '').split(' ')[0];
    const cdp = await page.context().newCDPSession(page);
    const lines = [`| view | link | first useful paint, median of ${RUNS} (ms) | FHIR requests (HTTP) |`, '| --- | --- | ---: | ---: |'];
    const views: [string, string, string][] = [
      ['worklist', '#/travail', 'travail'],
      ['hospital pathways', '#/hopital', 'hopital'],
      ['protocol follow-up', '#/suivi', 'suivi'],
      ['concertations', '#/concertations', 'concertations'],
      ['soins non programmés', '#/snp', 'snp'],
      ['directory', '#/annuaire', 'annuaire'],
      ['ACI indicators', '#/indicateurs', 'indicateurs'],
      ['patient record', patient, 'patient'],
      ['patient search', `#/patients/${encodeURIComponent(family)}`, 'patients'],
    ];
    for (const [name, hash, view] of views) {
      for (const [link, conditions] of [
        ['loopback', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }],
        ['emulated 4G', FOUR_G],
      ] as const) {
        await cdp.send('Network.emulateNetworkConditions', conditions);
        const times: number[] = [];
        let requests = 0;
        for (let i = 0; i < RUNS; i++) {
          const r = await load(page, `${config.origin}/app/${hash}`, `maillage:${view}`);
          if (!r) break;
          times.push(r.ms);
          requests = r.requests;
        }
        // A view this version of the app does not have (the bench also measures older commits).
        lines.push(times.length ? `| ${name} | ${link} | ${Math.round(median(times))} | ${requests} |` : `| ${name} | ${link} | — | — |`);
      }
    }
    console.log(lines.join('\n'));
  } finally {
    await browser.close();
    await server.close();
  }
}

/** One load of the app on `url` (same tab: the SMART session stays in sessionStorage): ms to the view's mark, and FHIR requests made; undefined if the view never shows. */
async function load(page: Page, url: string, mark: string): Promise<{ ms: number; requests: number } | undefined> {
  await page.goto('about:blank');
  let requests = 0;
  const count = (r: { url(): string }) => void (r.url().includes('/fhir') && requests++);
  page.on('request', count);
  await page.goto(url);
  const shown = await page
    .waitForFunction((m) => performance.getEntriesByName(m).length > 0, mark, { timeout: 20_000 })
    .then(
      () => true,
      () => false,
    );
  if (!shown) {
    page.off('request', count);
    return undefined;
  }
  const ms = await page.evaluate((m) => performance.getEntriesByName(m)[0].startTime, mark);
  await page.waitForLoadState('networkidle');
  page.off('request', count);
  return { ms, requests };
}

await main();
