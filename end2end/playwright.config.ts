// Playwright starts the built `slipway` executable itself, on the port and with the binary that
// `cargo xtask test` hands over, and drives it in Debian's Chromium (never a downloaded browser).
import { defineConfig, devices } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const port = process.env.SLIPWAY_E2E_PORT || '7499';
const bin = path.resolve(__dirname, process.env.SLIPWAY_BIN || '../target/debug/slipway');

// Tests read the admin credentials from process.env; Playwright's workers inherit the main
// process' environment, so setting the defaults here is enough.
const adminUser = (process.env.SLIPWAY_ADMIN_USER ||= 'admin');
const adminPassword = (process.env.SLIPWAY_ADMIN_PASSWORD ||= 'admin-password-1');

// The config is evaluated in the main process and again in every worker: only the first one
// creates the fresh data dir (and removes it at exit); the workers inherit its path.
let dataDir = process.env.SLIPWAY_E2E_DATA_DIR;
if (!dataDir) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-e2e-'));
  process.env.SLIPWAY_E2E_DATA_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  dataDir = dir;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export default defineConfig({
  testDir: 'tests',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    trace: 'off',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],
  webServer: {
    command: `exec ${quote(bin)} serve --addr 127.0.0.1:${port} --data-dir ${quote(dataDir)}`,
    url: `http://127.0.0.1:${port}/healthz`,
    env: {
      SLIPWAY_ADMIN_USER: adminUser,
      SLIPWAY_ADMIN_PASSWORD: adminPassword,
    },
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
    // SIGTERM lets the server finish and close its database cleanly before the data dir goes.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },
});
