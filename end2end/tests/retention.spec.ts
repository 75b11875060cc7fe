// Settings → Retention: how long each mode keeps an automation's runs.
import { expect, newAutomation, signIn, test, unique } from './helpers';

test('an admin sets how long runs are kept in Settings → Retention', async ({ page }) => {
  await signIn(page);
  const slug = await newAutomation(page, unique('Retention'));
  await page.goto(`/a/${slug}/test/settings`);
  const retention = page.getByRole('region', { name: 'Retention' });
  const testMode = retention.getByRole('group', { name: 'Test' });
  const liveMode = retention.getByRole('group', { name: 'Live' });
  // The defaults: Test 7 days, Live 30 days, 100,000 runs per composer.
  await expect(testMode.getByLabel('Days kept')).toHaveValue('7');
  await expect(liveMode.getByLabel('Days kept')).toHaveValue('30');
  await expect(liveMode.getByLabel('Runs kept per composer')).toHaveValue('100000');

  await testMode.getByLabel('Days kept').fill('0.5');
  await testMode.getByLabel('Runs kept per composer').fill('20');
  await retention.getByRole('button', { name: 'Save retention' }).click();
  await expect(retention.getByRole('status')).toContainText('Saved');
  await expect(page.getByRole('region', { name: 'Audit' })).toContainText(
    'set retention: test 0.5 days, 20 runs per composer; live 30 days, 100000 runs per composer',
  );
  await page.reload();
  await expect(testMode.getByLabel('Days kept')).toHaveValue('0.5');
  await expect(testMode.getByLabel('Runs kept per composer')).toHaveValue('20');

  // A rule the engine refuses is named and changes nothing.
  await liveMode.getByLabel('Days kept').fill('0');
  await retention.getByRole('button', { name: 'Save retention' }).click();
  await expect(retention.getByRole('alert')).toContainText('live: days must be more than 0');
  await page.reload();
  await expect(liveMode.getByLabel('Days kept')).toHaveValue('30');
});
