// Shared steps for the end-to-end tests: signing in and making uniquely named things, so tests
// that share one server and data dir never collide.
import { test as base, expect, type Page } from '@playwright/test';

export { expect };

/**
 * Playwright's `test`, failing any test whose pages log a hydration warning, a Rust panic or an
 * uncaught error: those are invisible in a screenshot but break the page in a user's browser.
 */
export const test = base.extend<{ browserProblems: void }>({
  browserProblems: [
    async ({ context }, use) => {
      const problems: string[] = [];
      const watch = (p: Page) => {
        p.on('console', (m) => {
          const text = m.text();
          if (/hydrat|panicked at|RuntimeError|unreachable executed/i.test(text)) {
            problems.push(`${m.type()}: ${text.slice(0, 400)}`);
          }
        });
        p.on('pageerror', (e) => problems.push(`uncaught: ${String(e).slice(0, 400)}`));
      };
      context.pages().forEach(watch);
      context.on('page', watch);
      await use();
      expect(problems, 'the browser reported hydration problems, panics or uncaught errors').toEqual([]);
    },
    { auto: true },
  ],
});

export const ADMIN = process.env.SLIPWAY_ADMIN_USER || 'admin';
export const ADMIN_PASSWORD = process.env.SLIPWAY_ADMIN_PASSWORD || 'admin-password-1';

export function unique(prefix: string): string {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
}

export async function signIn(page: Page, user = ADMIN, password = ADMIN_PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/**
 * Creates an automation through the UI, waits for its Test canvas and answers its slug, as the
 * server chose it (read from the automation switcher, never derived here).
 */
export async function newAutomation(page: Page, name: string): Promise<string> {
  await page.getByRole('button', { name: 'New automation' }).click();
  await page.getByLabel('Automation name').fill(name);
  await page.getByRole('button', { name: 'Create automation' }).click();
  const option = page.getByRole('combobox', { name: 'Automation' }).locator('option', { hasText: name });
  await expect(option).toHaveCount(1);
  const slug = (await option.getAttribute('value'))!;
  await expect(page).toHaveURL(new RegExp(`/a/${slug}/test$`));
  return slug;
}

/** Creates a composer through the UI, waits for its canvas and answers its slug (from its link). */
export async function newComposer(page: Page, name: string): Promise<string> {
  await page.getByRole('button', { name: 'New composer' }).click();
  await page.getByLabel('Composer name').fill(name);
  await page.getByRole('button', { name: 'Create composer' }).click();
  const link = page.getByRole('complementary').getByRole('link', { name, exact: true });
  await expect(link).toHaveCount(1);
  const href = (await link.getAttribute('href'))!;
  await expect(page).toHaveURL(new RegExp(`${href}$`));
  return href.slice(href.lastIndexOf('/') + 1);
}
