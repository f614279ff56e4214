// Debian's chromium driven by playwright-core: headless, offline-minded
// flags, and a fresh profile in a temporary directory for every launch.
// No browser is ever downloaded.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.GRAFT_E2E_CHROMIUM || '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const open = new Set();

/**
 * Launches chromium with a new profile under parentDir; resolves to
 * { context, page, close() }. close removes the profile. Signals are left to
 * the caller, which closes browsers (closeAllBrowsers) in its own order.
 */
export async function launchBrowser(parentDir, { width = 1280, height = 1000 } = {}) {
  const profile = fs.mkdtempSync(path.join(parentDir, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width, height },
    timeout: 60000,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const browser = {
    context,
    page: context.pages()[0] || (await context.newPage()),
    async close() {
      if (!open.delete(browser)) return;
      try {
        await context.close();
      } finally {
        fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
      }
    },
  };
  open.add(browser);
  return browser;
}

/** Closes every browser launchBrowser opened that is still open. */
export async function closeAllBrowsers() {
  await Promise.all([...open].map((b) => b.close().catch(() => {})));
}
