// The app shell: sign in, automations, composers, the mode switch, roles.
import { expect, ADMIN, ADMIN_PASSWORD, newAutomation, newComposer, signIn, unique, test } from './helpers';

test('signed-out visitors are sent to the login page, and a wrong password says so', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('wrong username or password');
  await expect(page).toHaveURL(/\/login/);
});

test('create an automation and a composer, switch to Live and back, reload', async ({ page }) => {
  await signIn(page);
  const automation = unique('Shell');
  const slug = await newAutomation(page, automation);
  await newComposer(page, 'Intake');

  const sidebar = page.getByRole('complementary');
  await expect(sidebar.getByRole('link', { name: 'Intake' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Intake');

  const live = page.getByRole('switch', { name: 'Live mode' });
  await expect(live).toHaveAttribute('aria-checked', 'false');
  await live.click();
  await expect(page).toHaveURL(new RegExp(`/a/${slug}/live/c/intake$`));
  await expect(live).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByText('Live is read-only')).toBeVisible();
  await expect(page.getByRole('button', { name: 'New composer' })).toHaveCount(0);

  await live.click();
  await expect(page).toHaveURL(new RegExp(`/a/${slug}/test/c/intake$`));
  await expect(live).toHaveAttribute('aria-checked', 'false');
  await expect(page.getByText('Live is read-only')).toHaveCount(0);

  await page.reload();
  await expect(sidebar.getByRole('link', { name: 'Intake' })).toBeVisible();
  await expect(page.getByRole('combobox', { name: 'Automation' })).toHaveValue(slug);
  await page.getByRole('link', { name: 'Canvas' }).click();
  await expect(page.getByRole('link', { name: 'Intake' }).first()).toBeVisible();
});

test('a viewer sees composers but no New composer', async ({ page, browser }) => {
  await signIn(page);
  const automation = unique('Viewed');
  const slug = await newAutomation(page, automation);
  await newComposer(page, 'Billing');
  const viewer = `viewer${Date.now().toString(36)}`;
  const created = await page.request.post('/api/v1/users', {
    data: { username: viewer, role: 'viewer', password: 'viewer-password-1' },
  });
  expect(created.status()).toBe(201);

  const context = await browser.newContext();
  const other = await context.newPage();
  await signIn(other, viewer, 'viewer-password-1');
  await other.goto(`/a/${slug}/test`);
  await expect(other.getByRole('complementary').getByRole('link', { name: 'Billing' })).toBeVisible();
  await expect(other.getByRole('button', { name: 'New composer' })).toHaveCount(0);
  await expect(other.getByRole('button', { name: 'New automation' })).toHaveCount(0);
  await context.close();
});

test('admins create API tokens in Settings and the token works on the REST API', async ({ page, playwright }) => {
  await signIn(page);
  await newAutomation(page, unique('Tokens'));
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Token name').fill('e2e script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByLabel('New token').textContent())?.trim() ?? '';
  expect(token).toMatch(/^slw_/);
  await expect(page.getByRole('cell', { name: 'e2e script', exact: true })).toBeVisible();

  const api = await playwright.request.newContext({ baseURL: page.url() });
  const r = await api.get('/api/v1/automations', { headers: { Authorization: `Bearer ${token}` } });
  expect(r.status()).toBe(200);
  const unauth = await api.get('/api/v1/automations');
  expect(unauth.status()).toBe(401);
  await api.dispose();

  await page.getByRole('button', { name: 'Revoke e2e script' }).click();
  await expect(page.getByRole('cell', { name: 'e2e script', exact: true })).toHaveCount(0);
});

test('an admin sets the egress rules in Settings → Network', async ({ page }) => {
  await signIn(page);
  const automation = unique('Network');
  const slug = await newAutomation(page, automation);
  await page.goto(`/a/${slug}/test/settings`);
  const network = page.getByRole('region', { name: 'Network' });
  await network.getByLabel('Denied ranges').fill('127.0.0.9/32');
  await network.getByRole('button', { name: 'Save network rules' }).click();
  await expect(network.getByRole('status')).toContainText('Saved');
  // The audit log below shows the change without a reload.
  await expect(page.getByRole('region', { name: 'Audit' })).toContainText('set egress rules: deny [127.0.0.9/32]');
  await page.reload();
  await expect(network.getByLabel('Denied ranges')).toHaveValue('127.0.0.9/32');
  await network.getByLabel('Denied ranges').fill('not a range');
  await network.getByRole('button', { name: 'Save network rules' }).click();
  await expect(network.getByRole('alert')).toContainText('is not an IP address or CIDR range');
  await network.getByLabel('Denied ranges').fill('');
  await network.getByRole('button', { name: 'Save network rules' }).click();
  await expect(network.getByRole('status')).toContainText('Saved');
});
