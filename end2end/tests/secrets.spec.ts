// Secrets: set in Test through the page, used by a run, never shown again.
import { expect, newAutomation, newComposer, signIn, unique, test } from './helpers';

test('a test secret is set on the Secrets page, used by a run and shown only as [secret:NAME]', async ({ page }) => {
  await signIn(page);
  const name = unique('Vault');
  const a = await newAutomation(page, name);
  await newComposer(page, 'Use');

  await page.getByRole('link', { name: 'Secrets' }).click();
  await page.getByLabel('Name').fill('CRM_TOKEN');
  await page.getByLabel('Value').fill('very-secret-value-9');
  await page.getByRole('button', { name: 'Set secret' }).click();
  await expect(page.getByRole('cell', { name: 'CRM_TOKEN', exact: true })).toBeVisible();
  await expect(page.locator('body')).not.toContainText('very-secret-value-9');

  const doc = {
    format: 1,
    composers: [{
      slug: 'use', name: 'Use', trigger: { kind: 'manual', sample: {} },
      steps: [{ name: 'header', kind: 'transform', config: { value: 'Bearer {{ secrets.CRM_TOKEN }}' }, position: { x: 300, y: 40 } }],
      links: [{ from: 'trigger', to: 'header' }],
    }],
  };
  const current = await page.request.get(`/api/v1/automations/${a}/draft`);
  await page.request.put(`/api/v1/automations/${a}/draft`, { data: doc, headers: { 'If-Match': current.headers()['etag'] } });
  await page.goto(`/a/${a}/test/c/use`);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.getByRole('group', { name: 'header', exact: true })).toContainText('Succeeded');
  await page.getByRole('link', { name: 'Open in Runs & Logs' }).click();
  const step = page.getByRole('group', { name: 'header' });
  await step.locator('summary').first().click();
  await expect(step).toContainText('Bearer [secret:CRM_TOKEN]');
  await expect(page.locator('body')).not.toContainText('very-secret-value-9');

  // Live secrets are separate (and only admins set them).
  await page.getByRole('switch', { name: 'Live mode' }).click();
  await page.getByRole('link', { name: 'Secrets' }).click();
  await expect(page.getByText('No secrets yet')).toBeVisible();
});
