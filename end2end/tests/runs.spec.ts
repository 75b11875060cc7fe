// Running composers: the play button and Run, live step states, Runs & Logs, Databases.
import type { Page } from '@playwright/test';
import { expect, newAutomation, newComposer, signIn, unique, test } from './helpers';

function node(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

function flow(transformValue: unknown) {
  return {
    format: 1,
    composers: [
      {
        slug: 'flow',
        name: 'Flow',
        trigger: { kind: 'manual', sample: { x: 10, id: 'k1' } },
        steps: [
          { name: 'transform', kind: 'transform', config: { value: transformValue }, position: { x: 300, y: 40 } },
          { name: 'branch', kind: 'branch', config: { condition: 'steps.transform.total > 5' }, position: { x: 600, y: 40 } },
          { name: 'save', kind: 'database', config: { op: 'put', database: 'orders', key: '{{ trigger.id }}', value: '{{ steps.transform }}' }, position: { x: 900, y: 0 } },
          { name: 'reply', kind: 'respond', config: { status: 200, body: '{{ steps.transform }}' }, position: { x: 900, y: 120 } },
        ],
        links: [
          { from: 'trigger', to: 'transform' },
          { from: 'transform', to: 'branch' },
          { from: 'branch', to: 'save', port: 'true' },
          { from: 'branch', to: 'reply', port: 'false' },
        ],
      },
    ],
  };
}

async function putDraft(page: Page, automation: string, doc: unknown) {
  const current = await page.request.get(`/api/v1/automations/${automation}/draft`);
  const etag = current.headers()['etag'];
  const r = await page.request.put(`/api/v1/automations/${automation}/draft`, { data: doc, headers: { 'If-Match': etag } });
  expect(r.status()).toBe(200);
}

test('run from the sidebar and the header, watch the steps, read the run, edit a record', async ({ page }) => {
  await signIn(page);
  const name = unique('Runs');
  const a = await newAutomation(page, name);
  await newComposer(page, 'Flow');
  await putDraft(page, a, flow({ total: '{{ trigger.x }}', id: '{{ trigger.id }}' }));
  await page.reload();
  await expect(node(page, 'save')).toBeVisible();

  await page.getByRole('button', { name: 'Run Flow' }).click();
  await expect(node(page, 'transform')).toContainText('Succeeded');
  await expect(node(page, 'branch')).toContainText('Succeeded');
  await expect(node(page, 'save')).toContainText('Succeeded');
  await expect(node(page, 'reply')).toContainText('Skipped');
  const strip = page.getByRole('region', { name: 'Run' });
  await expect(strip).toContainText('succeeded');
  const first = await strip.textContent();

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(strip).not.toHaveText(first ?? '');
  await expect(strip).toContainText('succeeded');

  await strip.getByRole('link', { name: 'Open in Runs & Logs' }).click();
  await expect(page).toHaveURL(new RegExp(`/a/${a}/test/runs/`));
  const transform = page.getByRole('group', { name: 'transform' });
  await transform.locator('summary').first().click();
  await expect(transform).toContainText('total');
  await expect(transform).toContainText('10');
  await expect(page.getByRole('group', { name: 'reply' })).toContainText('skipped');

  await page.getByRole('link', { name: 'Runs & Logs' }).click();
  await expect(page.getByRole('row')).toHaveCount(3); // header + two runs
  await page.getByLabel('Status').selectOption('failed');
  await expect(page.getByText('No runs yet')).toBeVisible();

  await page.getByRole('link', { name: 'Databases' }).click();
  await page.getByRole('button', { name: 'orders' }).click();
  const records = page.getByRole('region', { name: 'Records of orders' });
  await expect(records.getByRole('cell', { name: 'k1', exact: true })).toBeVisible();
  await records.getByRole('button', { name: 'Edit record k1' }).click();
  await records.getByLabel('Value').fill('{"total": 99, "note": "edited by hand"}');
  await records.getByRole('button', { name: 'Save record' }).click();
  await expect(records).toContainText('edited by hand');
  const stored = await page.request.get(`/api/v1/automations/${a}/databases/test/orders/records/k1`);
  expect((await stored.json()).value).toEqual({ total: 99, note: 'edited by hand' });

  await page.getByRole('switch', { name: 'Live mode' }).click();
  await expect(page.getByText('No databases yet')).toBeVisible(); // live has its own databases
});

test('a broken expression fails its step with the step and field named', async ({ page }) => {
  await signIn(page);
  const name = unique('Broken');
  const a = await newAutomation(page, name);
  await newComposer(page, 'Flow');
  await putDraft(page, a, flow({ total: '{{ steps.nope }}' }));
  await page.reload();
  await expect(node(page, 'transform')).toBeVisible();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(node(page, 'transform')).toContainText('Failed');
  await expect(node(page, 'branch')).toContainText('Skipped');
  await expect(page.getByRole('region', { name: 'Run' })).toContainText('step transform, value.total: unknown variable steps.nope');
});
