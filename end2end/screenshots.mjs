// Screenshots for the README (the deploy journey and a test run on the canvas), against a running Slipway with an empty data
// dir and the default admin:
//   SLIPWAY_ADMIN_USER=admin SLIPWAY_ADMIN_PASSWORD=admin-password-1 slipway serve --data-dir /tmp/shots-data &
//   BASE=http://127.0.0.1:7400 OUT=../docs/screenshots node screenshots.mjs
import { chromium } from '@playwright/test';
import fs from 'node:fs';
const base = process.env.BASE || 'http://127.0.0.1:7400';
const out = process.env.OUT || '/tmp/shots';
fs.mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
await page.goto(base + '/login');
await page.getByLabel('Username').fill('admin');
await page.getByLabel('Password').fill('admin-password-1');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(u => !u.pathname.startsWith('/login'));
const r = page.request;
await r.post(base + '/api/v1/automations', { data: { slug: 'orders', name: 'Orders' } });
const doc = { format: 1, composers: [{ slug: 'intake', name: 'Intake', trigger: { kind: 'webhook', method: 'POST', auth_secret: 'HOOK_KEY', sample: { body: { id: 'a1', total: 12 } } },
  steps: [
    { name: 'total', kind: 'transform', config: { value: { id: '{{ trigger.body.id }}', total: '{{ trigger.body.total }}' } }, position: { x: 320, y: 60 } },
    { name: 'save', kind: 'database', config: { op: 'put', database: 'orders', key: '{{ steps.total.id }}', value: '{{ steps.total }}' }, position: { x: 620, y: 60 } },
    { name: 'notify', kind: 'http', config: { method: 'POST', url: 'https://example.com/hook', headers: { Authorization: 'Bearer {{ secrets.CRM_TOKEN }}' } }, position: { x: 620, y: 220 } },
    { name: 'reply', kind: 'respond', config: { status: 201, body: '{{ steps.save }}' }, position: { x: 920, y: 60 } }],
  links: [{ from: 'trigger', to: 'total' }, { from: 'total', to: 'save' }, { from: 'total', to: 'notify' }, { from: 'save', to: 'reply' }] }] };
let d = await r.get(base + '/api/v1/automations/orders/draft');
await r.put(base + '/api/v1/automations/orders/draft', { data: doc, headers: { 'If-Match': d.headers()['etag'] } });
for (const [n, v] of [['HOOK_KEY', 'k1'], ['CRM_TOKEN', 'c1']]) await r.put(base + `/api/v1/automations/orders/secrets/test/${n}`, { data: { value: v } });
for (const k of ['a1', 'a2', 'a3']) await r.put(base + `/api/v1/automations/orders/databases/test/orders/records/${k}`, { data: { k } });
await r.post(base + '/api/v1/automations/orders/deployments', { data: { secrets: ['HOOK_KEY'], databases: ['orders'], note: 'first release' } });
doc.composers[0].steps[3].config.status = 200;
doc.composers[0].steps.push({ name: 'wait', kind: 'delay', config: { ms: 100 }, position: { x: 920, y: 220 } });
doc.composers[0].links.push({ from: 'notify', to: 'wait' });
d = await r.get(base + '/api/v1/automations/orders/draft');
await r.put(base + '/api/v1/automations/orders/draft', { data: doc, headers: { 'If-Match': d.headers()['etag'] } });
await page.goto(base + '/a/orders/test/c/intake');
await page.getByRole('button', { name: 'Deploy', exact: true }).click();
await page.getByRole('checkbox', { name: 'HOOK_KEY' }).check();
await page.waitForTimeout(500);
await page.screenshot({ path: out + '/deploy.png' });
await page.getByLabel('Note').fill('retry notify');
await page.getByRole('button', { name: 'Confirm deploy' }).click();
await page.waitForTimeout(300);
await page.screenshot({ path: out + '/deployed.png' });
await page.request.post(base + '/hooks/orders/intake', { data: { id: 'z9', total: 3 }, headers: { Authorization: 'Bearer k1' } });
await page.goto(base + '/a/orders/live/c/intake');
await page.waitForTimeout(800);
await page.getByRole('group', { name: 'save', exact: true }).click();
await page.waitForTimeout(300);
await page.screenshot({ path: out + '/live.png' });
await page.goto(base + '/a/orders/live/deployments');
await page.waitForTimeout(800);
await page.screenshot({ path: out + '/deployments.png' });
await page.goto(base + '/a/orders/live/settings');
await page.waitForTimeout(800);
await page.getByRole('heading', { name: 'Audit' }).scrollIntoViewIfNeeded();
await page.screenshot({ path: out + '/audit.png' });
await page.goto(base + '/a/orders/live/runs');
await page.waitForTimeout(600);
await page.getByRole('row').nth(1).getByRole('link').first().click();
await page.waitForTimeout(800);
await page.screenshot({ path: out + '/liverun.png' });
// The Test canvas after a run: a branching composer, the first step selected.
await r.post(base + '/api/v1/automations', { data: { slug: 'shop', name: 'Shop' } });
const shop = { format: 1, composers: [{ slug: 'intake', name: 'Intake', trigger: { kind: 'webhook', method: 'POST', sample: { body: { id: 'o1', items: [20, 25] } } },
  steps: [
    { name: 'total', kind: 'transform', config: { value: { id: '{{ trigger.body.id }}', total: '{{ trigger.body.items | sum }}' } }, position: { x: 300, y: 200 } },
    { name: 'big_order', kind: 'branch', config: { condition: 'steps.total.total > 40' }, position: { x: 560, y: 200 } },
    { name: 'save', kind: 'database', config: { op: 'put', database: 'orders', key: '{{ steps.total.id }}', value: '{{ steps.total }}' }, position: { x: 820, y: 120 } },
    { name: 'notify', kind: 'http', config: { method: 'POST', url: 'https://example.com/hook' }, position: { x: 820, y: 290 } },
    { name: 'reply', kind: 'respond', config: { status: 201, body: '{{ steps.save }}' }, position: { x: 1080, y: 120 } }],
  links: [{ from: 'trigger', to: 'total' }, { from: 'total', to: 'big_order' }, { from: 'big_order', to: 'save', port: 'true' },
    { from: 'big_order', to: 'notify', port: 'false' }, { from: 'save', to: 'reply' }] }] };
d = await r.get(base + '/api/v1/automations/shop/draft');
await r.put(base + '/api/v1/automations/shop/draft', { data: shop, headers: { 'If-Match': d.headers()['etag'] } });
await page.goto(base + '/a/shop/test/c/intake');
await page.waitForTimeout(800);
await page.getByRole('button', { name: 'Run', exact: true }).click();
await page.waitForTimeout(1200);
await page.getByRole('group', { name: 'total', exact: true }).click();
await page.waitForTimeout(300);
await page.screenshot({ path: out + '/composer.png' });
await browser.close();
