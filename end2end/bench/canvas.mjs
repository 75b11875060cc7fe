// Canvas benchmarks in Debian's Chromium (PRODUCT.md §13): time to interactive for a 300-step
// composer, and frames per second while dragging a step in it. Prints one JSON line.
// Env: BASE (server URL), SLIPWAY_ADMIN_USER, SLIPWAY_ADMIN_PASSWORD, CHROMIUM.
import { chromium } from '@playwright/test';

const base = process.env.BASE;
const user = process.env.SLIPWAY_ADMIN_USER || 'admin';
const password = process.env.SLIPWAY_ADMIN_PASSWORD || 'admin-password-1';
const STEPS = 300;

function document300() {
  const steps = [];
  const links = [{ from: 'trigger', to: 'step_0' }];
  for (let i = 0; i < STEPS; i++) {
    steps.push({
      name: `step_${i}`,
      kind: i % 3 === 0 ? 'transform' : i % 3 === 1 ? 'code' : 'delay',
      config: i % 3 === 0 ? { value: { id: '{{ trigger.id }}', n: i } } : i % 3 === 1 ? { source: 'return input;' } : { ms: 10 },
      position: { x: 340 + (i % 20) * 300, y: 40 + Math.floor(i / 20) * 100 },
    });
    if (i > 0) links.push({ from: `step_${i - 1}`, to: `step_${i}` });
  }
  return { format: 1, composers: [{ slug: 'big', name: 'Big', trigger: { kind: 'manual', sample: {} }, steps, links }] };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const context = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 900 } });
const api = context.request;
let r = await api.post('/api/v1/session', { data: { username: user, password } });
if (!r.ok()) throw new Error(`login failed: ${r.status()}`);
const slug = `bench-canvas-${Date.now()}`;
r = await api.post('/api/v1/automations', { data: { slug, name: 'Bench canvas' } });
if (!r.ok()) throw new Error(`create failed: ${r.status()} ${await r.text()}`);
r = await api.put(`/api/v1/automations/${slug}/draft`, { data: document300(), headers: { 'If-Match': '1' } });
if (!r.ok()) throw new Error(`draft failed: ${r.status()} ${await r.text()}`);

const page = await context.newPage();
// Warm the browser's caches (WASM compile) once, as a returning user has them.
await page.goto(`/a/${slug}/test`);
await page.getByRole('link', { name: 'Big' }).first().waitFor();

const runs = [];
for (let i = 0; i < 3; i++) {
  const t0 = Date.now();
  await page.goto(`/a/${slug}/test/c/big`);
  await page.getByRole('group', { name: `step_${STEPS - 1}`, exact: true }).waitFor({ state: 'attached' });
  await page.getByRole('group', { name: 'step_0', exact: true }).click();
  await page.getByLabel('Name').and(page.locator('input')).first().waitFor();
  await page.waitForFunction(() => document.querySelector('.inspector input.mono')?.value === 'step_0');
  runs.push(Date.now() - t0);
}
runs.sort((a, b) => a - b);
const openMs = runs[Math.floor(runs.length / 2)];

// Drag one step for about two seconds and count the frames the page paints meanwhile.
const box = await page.getByRole('group', { name: 'step_0', exact: true }).boundingBox();
await page.evaluate(() => {
  window.__frames = 0;
  window.__counting = true;
  const tick = () => { if (window.__counting) { window.__frames++; requestAnimationFrame(tick); } };
  requestAnimationFrame(tick);
});
const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
await page.mouse.move(cx, cy);
await page.mouse.down();
const start = Date.now();
let i = 0;
while (Date.now() - start < 2000) {
  i++;
  await page.mouse.move(cx + (i % 200), cy + Math.sin(i / 10) * 80);
  await page.waitForTimeout(8);
}
const elapsed = (Date.now() - start) / 1000;
const frames = await page.evaluate(() => { window.__counting = false; return window.__frames; });
await page.mouse.up();
const moved = await page.getByRole('group', { name: 'step_0', exact: true }).boundingBox();
if (Math.abs(moved.x - box.x) < 1 && Math.abs(moved.y - box.y) < 1) throw new Error('the drag did not move the step');

console.log(JSON.stringify({ open_ms: openMs, drag_fps: Math.round((frames / elapsed) * 10) / 10, drag_moves: i }));
await browser.close();
