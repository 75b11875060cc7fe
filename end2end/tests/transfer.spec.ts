// Settings → Automation: Export downloads the draft as a canonical file; Import makes a file the
// draft of an automation (keeping a backup revision) and names what is wrong with a bad one.
import { readFileSync } from 'node:fs';
import { expect, newAutomation, newComposer, signIn, test, unique } from './helpers';

test('an automation is exported as a file and imported into another one', async ({ page }) => {
  await signIn(page);
  const source = await newAutomation(page, unique('Exported'));
  await newComposer(page, 'Orders');
  await page.goto(`/a/${source}/test/settings`);
  const automation = page.getByRole('region', { name: 'Automation' });
  const downloading = page.waitForEvent('download');
  await automation.getByRole('button', { name: 'Export', exact: true }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`${source}.slipway.json`);
  const file = (await download.path())!;
  const text = readFileSync(file, 'utf8');
  expect(text).toContain('"slipway_export": 1');
  expect(text).toContain('"name": "Orders"');
  expect(text.endsWith('}\n')).toBe(true);

  const target = await newAutomation(page, unique('Imported'));
  await page.goto(`/a/${target}/test/settings`);
  const into = page.getByRole('region', { name: 'Automation' });
  await expect(into.getByLabel('Import as')).toHaveValue(target);
  await into.getByLabel('Import file').setInputFiles(file);
  await expect(into.getByLabel('File contents')).toHaveValue(/"slipway_export": 1/);
  await into.getByRole('button', { name: 'Import', exact: true }).click();
  const status = into.getByRole('status');
  await expect(status).toContainText(`Imported into the draft of ${target} (version 2); the draft before is revision`);
  await status.getByRole('link', { name: 'Open it' }).click();
  await expect(
    page.getByRole('complementary').getByRole('link', { name: 'Orders', exact: true }),
  ).toHaveCount(1);
  // The draft before is kept: revision history holds the backup.
  await page.goto(`/a/${target}/test/settings`);
  await expect(page.getByRole('region', { name: 'Audit' })).toContainText('imported the draft from a file');

  // A bad file is refused with what is wrong, and changes nothing.
  const again = page.getByRole('region', { name: 'Automation' });
  await again.getByLabel('File contents').fill('{ not json');
  await again.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(again.getByRole('alert')).toContainText('the file is not JSON');
});
