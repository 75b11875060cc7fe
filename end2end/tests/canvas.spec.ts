// The canvas editor, autosave, undo/redo, the revision browser, conflicts and connections.
import type { Page } from '@playwright/test';
import { expect, newAutomation, newComposer, signIn, unique, test } from './helpers';

const KINDS: [string, string][] = [
  ['HTTP request', 'http'],
  ['Transform', 'transform'],
  ['Code', 'code'],
  ['Branch', 'branch'],
  ['Database', 'database'],
  ['Respond', 'respond'],
  ['Delay', 'delay'],
];

async function addStep(page: Page, label: string) {
  await page.getByRole('button', { name: 'Add step' }).click();
  await page.getByRole('menuitem', { name: label }).click();
}

function node(page: Page, name: string) {
  return page.getByRole('group', { name, exact: true });
}

async function saved(page: Page) {
  await expect(page.getByRole('status')).toHaveText('Saved', { timeout: 10_000 });
}

async function linksOf(page: Page, name: string): Promise<string[]> {
  await node(page, name).click();
  const items = page.getByRole('region', { name: 'Links' }).getByRole('listitem');
  return (await items.allTextContents()).map((t) => t.replace('×', '').trim());
}

test('build a composer with every kind of step, link, edit, undo and redo, and find it all after a reload', async ({ page }) => {
  await signIn(page);
  await newAutomation(page, unique('Canvas'));
  await newComposer(page, 'Flow');

  for (const [label, name] of KINDS) {
    await addStep(page, label);
    await expect(node(page, name)).toBeVisible();
    await expect(page.getByLabel('Name')).toHaveValue(name); // the new step is selected
  }

  // Link with the "Next step" combobox (keyboard-friendly)...
  await node(page, 'Trigger').click();
  await page.getByRole('combobox', { name: 'Next step' }).selectOption('transform');
  await node(page, 'transform').click();
  await page.getByRole('combobox', { name: 'Next step' }).selectOption('branch');
  await node(page, 'branch').click();
  await page.getByRole('combobox', { name: 'Next step (true)' }).selectOption('database');
  await page.getByRole('combobox', { name: 'Next step (false)' }).selectOption('respond');
  expect(await linksOf(page, 'branch')).toEqual(['true → database', 'false → respond']);

  // ...and one by dragging from an output port onto a step, after panning both into view with the wheel.
  const canvas = (await page.locator('.canvas').boundingBox())!;
  const start = (await node(page, 'database').boundingBox())!;
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
  await page.mouse.wheel(start.x - (canvas.x + 60), 0);
  await expect.poll(async () => (await node(page, 'database').boundingBox())!.x).toBeLessThan(canvas.x + 250);
  const port = node(page, 'database').locator('.port.out');
  const from = (await port.boundingBox())!;
  const to = (await node(page, 'delay').boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 8 });
  await page.mouse.up();
  expect(await linksOf(page, 'database')).toEqual(['→ delay']);

  // Edit config fields of several kinds.
  await node(page, 'transform').click();
  await page.getByLabel('Value').fill('{"total": "{{ trigger.items | length }}"}');
  await node(page, 'http').click();
  await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
  await node(page, 'branch').click();
  await page.getByLabel('Condition').fill('steps.transform.total > 5');
  await node(page, 'code').click();
  await page.getByLabel('Source').fill('return input.steps.transform.total * 2;');
  await node(page, 'database').click();
  await page.getByLabel('Database', { exact: true }).fill('orders');
  await page.getByLabel('Key', { exact: true }).fill('{{ steps.transform.total }}');

  // Broken JSON is reported inline and does not replace the value.
  await node(page, 'transform').click();
  await page.getByLabel('Value').fill('{"total": ');
  await expect(page.getByRole('alert')).toContainText('Invalid JSON');
  await page.getByLabel('Value').fill('{"total": "{{ trigger.items | length }}"}');
  await expect(page.getByRole('alert')).toHaveCount(0);

  // Delete a link (select it, press Delete), undo, redo.
  await node(page, 'database').click();
  await page.getByRole('region', { name: 'Links' }).getByRole('button', { name: '→ delay' }).click();
  await page.keyboard.press('Delete');
  expect(await linksOf(page, 'database')).toEqual([]);
  await page.keyboard.press('Control+z');
  expect(await linksOf(page, 'database')).toEqual(['→ delay']);
  await page.keyboard.press('Control+Shift+z');
  expect(await linksOf(page, 'database')).toEqual([]);

  // Delete a step with the keyboard, and undo it.
  await node(page, 'delay').click();
  await page.keyboard.press('Delete');
  await expect(node(page, 'delay')).toHaveCount(0);
  await page.keyboard.press('Control+z');
  await expect(node(page, 'delay')).toBeVisible();

  // Move a step by dragging it.
  const before = (await node(page, 'respond').boundingBox())!;
  const delayBefore = (await node(page, 'delay').boundingBox())!;
  await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
  await page.mouse.down();
  await page.mouse.move(before.x + before.width / 2, before.y + before.height / 2 + 160, { steps: 10 });
  await page.mouse.up();
  const moved = (await node(page, 'respond').boundingBox())!;
  const delayAfter = (await node(page, 'delay').boundingBox())!;
  // Only that step moved, relative to its neighbour.
  expect((moved.y - delayAfter.y) - (before.y - delayBefore.y)).toBeGreaterThan(100);

  await saved(page);
  await page.reload();
  for (const [, name] of KINDS) await expect(node(page, name)).toBeVisible();
  expect(await linksOf(page, 'branch')).toEqual(['true → database', 'false → respond']);
  expect(await linksOf(page, 'database')).toEqual([]);
  await node(page, 'code').click();
  await expect(page.getByLabel('Source')).toHaveValue('return input.steps.transform.total * 2;');
  await node(page, 'transform').click();
  expect(JSON.parse(await page.getByLabel('Value').inputValue())).toEqual({ total: '{{ trigger.items | length }}' });
  const after = (await node(page, 'respond').boundingBox())!;
  const delay = (await node(page, 'delay').boundingBox())!;
  expect(Math.abs(after.y - delay.y)).toBeGreaterThan(60); // the moved position was saved
});

test('problems show on the step and in the list, and an invalid draft still saves', async ({ page }) => {
  await signIn(page);
  await newAutomation(page, unique('Problems'));
  await newComposer(page, 'Broken');
  await addStep(page, 'Branch');
  await page.getByLabel('Condition').fill('steps.x >');
  await expect(node(page, 'branch').locator('.badge.fail')).toBeVisible();
  await saved(page);
  await page.getByRole('button', { name: 'Add step' }).press('Escape');
  await page.keyboard.press('Escape'); // clear the selection: the inspector lists every problem
  const problems = page.getByRole('region', { name: 'Problems' });
  await expect(problems).toContainText('condition');
  await page.reload();
  await expect(node(page, 'branch').locator('.badge.fail')).toBeVisible();
  await page.getByRole('region', { name: 'Problems' }).getByRole('button').first().click();
  await expect(page.getByLabel('Name')).toHaveValue('branch');
});

test('revision history: preview an older revision, restore it, and find the backup', async ({ page }) => {
  await signIn(page);
  await newAutomation(page, unique('History'));
  await newComposer(page, 'Orders');
  await addStep(page, 'Transform');
  await saved(page);

  await page.getByRole('button', { name: 'Revision history' }).click();
  const history = page.getByRole('complementary', { name: 'Revision history' });
  await history.getByLabel('Version name').fill('one step');
  await history.getByRole('button', { name: 'Name this version' }).click();
  await expect(history.getByText('one step')).toBeVisible();
  const named = history.getByRole('button', { name: /^Revision \d+$/ }).first();
  const namedLabel = (await named.getAttribute('aria-label'))!;

  await addStep(page, 'Delay');
  await saved(page);
  await expect(node(page, 'delay')).toBeVisible();

  await history.getByRole('button', { name: namedLabel, exact: true }).click();
  await expect(page.getByRole('region', { name: 'Revision preview' })).toContainText(`Previewing ${namedLabel.toLowerCase()}`);
  await expect(node(page, 'transform')).toBeVisible();
  await expect(node(page, 'delay')).toHaveCount(0);
  await expect(page.getByRole('region', { name: 'Revision preview' })).toContainText('Not in this revision: delay');
  await expect(page.getByRole('button', { name: 'Add step' })).toHaveCount(0); // read-only

  await page.getByRole('button', { name: 'Back to draft' }).click();
  await expect(node(page, 'delay')).toBeVisible();

  await history.getByRole('button', { name: namedLabel, exact: true }).click();
  await page.getByRole('button', { name: 'Restore this revision' }).click();
  await expect(page.getByRole('region', { name: 'Revision preview' })).toHaveCount(0);
  await expect(node(page, 'delay')).toHaveCount(0);
  await expect(node(page, 'transform')).toBeVisible();
  await expect(history.getByRole('listitem').first()).toContainText('backup');
  await expect(history.getByRole('listitem').first()).toContainText(`before restoring ${namedLabel.toLowerCase()}`);

  await page.reload();
  await expect(node(page, 'transform')).toBeVisible();
  await expect(node(page, 'delay')).toHaveCount(0);
});

test('two editors at once: the stale save is refused, kept as a revision, and the UI offers to reload', async ({ page, browser }) => {
  await signIn(page);
  const automation = unique('Conflict');
  await newAutomation(page, automation);
  await newComposer(page, 'Shared');
  await saved(page);
  const url = page.url();

  const other = await browser.newContext();
  const second = await other.newPage();
  await signIn(second);
  await second.goto(url);
  await expect(node(second, 'Trigger')).toBeVisible();
  await saved(second);

  await addStep(page, 'Transform');
  await saved(page);

  await addStep(second, 'Delay');
  await expect(second.getByRole('status')).toContainText('someone else saved this automation', { timeout: 10_000 });
  await expect(second.getByRole('status')).toContainText('kept as revision');
  await expect(second.getByRole('button', { name: 'Add step' })).toHaveCount(0); // no further edits to lose

  await second.getByRole('button', { name: 'Reload' }).click();
  await expect(node(second, 'transform')).toBeVisible();
  await expect(node(second, 'delay')).toHaveCount(0);
  await second.getByRole('button', { name: 'Revision history' }).click();
  const kept = second.getByRole('complementary', { name: 'Revision history' }).getByRole('listitem').filter({ hasText: 'conflict' });
  await expect(kept).toHaveCount(1);
  await kept.getByRole('button').click();
  await expect(node(second, 'delay')).toBeVisible(); // the losing edit is there to restore
  await other.close();
});

test('connections are created and edited in Test and saved with the draft', async ({ page }) => {
  await signIn(page);
  await newAutomation(page, unique('Conns'));
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByRole('button', { name: 'New connection' }).click();
  await page.getByLabel('Name').fill('crm');
  await page.getByLabel('Name').press('Tab');
  await page.getByLabel('Base URL').fill('http://crm.intranet:8080/api');
  await page.getByLabel('Headers').fill('{"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"}');
  await page.goto(page.url()); // full reload
  await expect(page.getByLabel('Name')).toHaveValue('crm');
  await expect(page.getByLabel('Base URL')).toHaveValue('http://crm.intranet:8080/api');
  await page.getByRole('button', { name: 'Delete connection crm' }).click();
  await page.getByRole('button', { name: 'Delete connection', exact: true }).click();
  await expect(page.getByText('No connections yet')).toBeVisible();

  await page.getByRole('switch', { name: 'Live mode' }).click();
  await expect(page.getByText('Live is read-only')).toBeVisible();
  await expect(page.getByRole('button', { name: 'New connection' })).toHaveCount(0);
});
