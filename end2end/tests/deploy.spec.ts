// The whole journey of the product: build in Test with a test secret and database, run it,
// deploy it (ticking both), see Live read-only, call the live webhook, see the live run, change
// Test and see Live unchanged, restore an older revision and deploy it, roll back, and replay
// the live run in Test.
import type { Page } from '@playwright/test';
import { expect, newAutomation, newComposer, signIn, unique, test } from './helpers';

const HOOK_VALUE = 'hook-value-for-e2e-42';

function node(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

async function saved(page: Page) {
  await expect(page.getByRole('status')).toHaveText('Saved', { timeout: 10_000 });
}

async function deploy(page: Page, tick: string[], note: string): Promise<void> {
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy to live' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Confirm deploy' })).toBeEnabled();
  for (const name of tick) {
    await dialog.getByRole('checkbox', { name, exact: true }).check();
  }
  await dialog.getByLabel('Note').fill(note);
  await dialog.getByRole('button', { name: 'Confirm deploy' }).click();
  await expect(dialog).toHaveCount(0);
}

async function callLive(page: Page, a: string, id: string) {
  const r = await page.request.post(`/hooks/${a}/intake`, {
    data: { id },
    headers: { Authorization: `Bearer ${HOOK_VALUE}` },
  });
  expect(r.status()).toBe(200);
  return r.json();
}

test('build in Test, deploy, run in Live, change Test, restore and redeploy, roll back, replay', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page);
  const name = unique('Journey');
  const a = await newAutomation(page, name);
  await newComposer(page, 'Intake');

  // A test secret through the Secrets page, a test database through the Databases page.
  await page.getByRole('link', { name: 'Secrets' }).click();
  await page.getByLabel('Name').fill('HOOK_KEY');
  await page.getByLabel('Value').fill(HOOK_VALUE);
  await page.getByRole('button', { name: 'Set secret' }).click();
  await expect(page.getByRole('cell', { name: 'HOOK_KEY', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Databases' }).click();
  await page.getByLabel('New database').fill('orders');
  await page.getByRole('button', { name: 'Create database' }).click();
  await expect(page.getByRole('link', { name: 'orders' }).or(page.getByRole('cell', { name: 'orders', exact: true })).first()).toBeVisible();

  // The webhook composer (its steps as a document; the canvas spec builds steps by hand).
  const doc = {
    format: 1,
    composers: [{
      slug: 'intake', name: 'Intake',
      trigger: { kind: 'webhook', method: 'POST', auth_secret: 'HOOK_KEY', sample: { body: { id: 'sample-1' } } },
      steps: [
        { name: 'save', kind: 'database', config: { op: 'put', database: 'orders', key: '{{ trigger.body.id }}', value: '{{ trigger.body }}' }, position: { x: 320, y: 40 } },
        { name: 'reply', kind: 'respond', config: { status: 200, body: { stored: '{{ trigger.body.id }}', version: 'v1' } }, position: { x: 620, y: 40 } },
      ],
      links: [{ from: 'trigger', to: 'save' }, { from: 'save', to: 'reply' }],
    }],
  };
  const current = await page.request.get(`/api/v1/automations/${a}/draft`);
  const put = await page.request.put(`/api/v1/automations/${a}/draft`, { data: doc, headers: { 'If-Match': current.headers()['etag'] } });
  expect(put.status()).toBe(200);

  // Run it in Test.
  await page.goto(`/a/${a}/test/c/intake`);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(node(page, 'reply')).toContainText('Succeeded');

  // Deploy, ticking the secret and the database.
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy to live' });
  await expect(dialog).toContainText('composer Intake added');
  await expect(dialog).toContainText('secret HOOK_KEY is used but Live will not have it');
  await dialog.getByRole('checkbox', { name: 'HOOK_KEY', exact: true }).check();
  await expect(dialog).not.toContainText('secret HOOK_KEY is used');
  await dialog.getByRole('checkbox', { name: 'orders', exact: true }).check();
  await dialog.getByLabel('Note').fill('first release');
  await dialog.getByRole('button', { name: 'Confirm deploy' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText('Deployed #1')).toBeVisible();

  // Live: the same canvas, read-only.
  await page.getByRole('switch', { name: 'Live mode' }).click();
  await expect(page).toHaveURL(new RegExp(`/a/${a}/live/c/intake$`));
  await expect(page.getByText('Live is read-only')).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Deployment #1');
  await expect(node(page, 'save')).toBeVisible();
  await expect(node(page, 'reply')).toBeVisible();
  for (const control of ['Add step', 'Deploy', 'Revision history']) {
    await expect(page.getByRole('button', { name: control, exact: true })).toHaveCount(0);
  }
  await node(page, 'save').click();
  await expect(page.getByLabel('Name', { exact: true })).toBeDisabled();

  // An admin runs it in Live by hand, after confirming.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Run in Live?' });
  await expect(confirm).toContainText('live secrets and live databases');
  await confirm.getByRole('button', { name: 'Run in Live' }).click();
  await expect(node(page, 'reply')).toContainText('Succeeded');

  // The live webhook runs the deployment with the live secret and database.
  expect(await callLive(page, a, 'live-1')).toEqual({ stored: 'live-1', version: 'v1' });
  const refused = await page.request.post(`/hooks/${a}/intake`, { data: { id: 'x' } });
  expect(refused.status()).toBe(401);
  await page.getByRole('link', { name: 'Runs & Logs', exact: true }).click();
  const liveRow = page.getByRole('row').filter({ hasText: 'webhook' }).first();
  await expect(liveRow).toContainText('succeeded');
  await page.getByRole('link', { name: 'Databases' }).click();
  await expect(page.getByRole('main')).toContainText('orders');

  // Change the composer in Test: Live does not change.
  await page.getByRole('switch', { name: 'Live mode' }).click();
  await page.goto(`/a/${a}/test/c/intake`);
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByRole('menuitem', { name: 'Delay' }).click();
  await saved(page);
  await expect(node(page, 'delay')).toBeVisible();
  await page.goto(`/a/${a}/live/c/intake`);
  await expect(node(page, 'save')).toBeVisible();
  await expect(node(page, 'delay')).toHaveCount(0);

  // Deploy the change (#2): Live follows.
  await page.goto(`/a/${a}/test/c/intake`);
  await deploy(page, [], 'with a delay');
  await page.goto(`/a/${a}/live/c/intake`);
  await expect(page.getByRole('status')).toHaveText('Deployment #2');
  await expect(node(page, 'delay')).toBeVisible();

  // Restore the revision deployed as #1 and deploy it (#3): Live follows.
  const deployments = await (await page.request.get(`/api/v1/automations/${a}/deployments`)).json();
  const firstRevision = deployments.items.find((d: { number: number }) => d.number === 1).revision;
  await page.goto(`/a/${a}/test/c/intake`);
  await page.getByRole('button', { name: 'Revision history' }).click();
  const history = page.getByRole('complementary', { name: 'Revision history' });
  await history.getByRole('button', { name: `Revision ${firstRevision}`, exact: true }).click();
  await page.getByRole('button', { name: 'Restore this revision' }).click();
  await expect(node(page, 'delay')).toHaveCount(0);
  await saved(page);
  await deploy(page, [], 'back to the first');
  await page.goto(`/a/${a}/live/c/intake`);
  await expect(page.getByRole('status')).toHaveText('Deployment #3');
  await expect(node(page, 'delay')).toHaveCount(0);

  // The Deployments page: roll back to #2 in one action.
  await page.getByRole('link', { name: 'Deployments' }).click();
  await expect(page.getByRole('row')).toHaveCount(4);
  await expect(page.getByRole('row').filter({ hasText: 'first release' })).toContainText('HOOK_KEY');
  await page.getByRole('button', { name: 'Roll back to #2' }).click();
  await expect(page.getByRole('status')).toContainText('deployment #4');
  await page.goto(`/a/${a}/live/c/intake`);
  await expect(page.getByRole('status')).toHaveText('Deployment #4');
  await expect(node(page, 'delay')).toBeVisible();

  // Replay the first live run in Test: same input, the draft, test data.
  await page.getByRole('link', { name: 'Runs & Logs', exact: true }).click();
  await page.getByRole('row').filter({ hasText: 'webhook' }).last().getByRole('link').first().click();
  await expect(page.getByRole('main')).toContainText('live-1');
  await page.getByRole('button', { name: 'Replay in Test' }).click();
  await expect(page).toHaveURL(new RegExp(`/a/${a}/test/runs/`));
  await expect(page.getByRole('main')).toContainText('Replay of');
  await expect(page.getByRole('main')).toContainText('replay');
  const replayed = await (await page.request.get(`/api/v1/automations/${a}/databases/test/orders/records/live-1`)).json();
  expect(replayed.value).toMatchObject({ id: 'live-1' });

  // The audit log names the deploys.
  await page.getByRole('link', { name: 'Settings' }).click();
  const audit = page.getByRole('region', { name: 'Audit' });
  await expect(audit).toContainText('rollback');
  await expect(audit).toContainText('deployed #1');
});
