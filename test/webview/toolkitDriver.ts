// SPDX-License-Identifier: Apache-2.0
/**
 * Drives `@vscode/webview-ui-toolkit` controls the way a user does: type into a text field, open a dropdown and
 * click an option, click a radio. Playwright's fill/selectOption work only on native controls; these go through
 * the components' shadow DOM and fire the same events a person's keyboard and mouse do. Used by the Chromium
 * component tests and the code-server end-to-end tests.
 */
import type { Locator } from 'playwright-core';

/** Replace the text of a vscode-text-field: click into it, select everything, type `text` key by key. */
export async function typeInto(field: Locator, text: string): Promise<void> {
  const input = field.locator('input');
  await input.click();
  await input.press('ControlOrMeta+a');
  if (text) await input.pressSequentially(text);
  else await input.press('Backspace');
}

/** Open a vscode-dropdown and click the option whose text is exactly `label`; waits until the dropdown shows it. */
export async function chooseOption(dropdown: Locator, label: string): Promise<void> {
  await dropdown.click();
  const option = dropdown.getByRole('option', { name: label, exact: true });
  await option.click();
  await dropdown.locator('.selected-value', { hasText: label }).waitFor({ state: 'attached' }).catch(() => undefined);
}

/** The text a vscode-dropdown currently shows. */
export async function shownOption(dropdown: Locator): Promise<string> {
  return (await dropdown.evaluate((el) => (el as unknown as { displayValue?: string }).displayValue ?? '')).trim();
}

/** Whether a toolkit control (vscode-button, vscode-text-field, …) is disabled. */
export async function isControlDisabled(control: Locator): Promise<boolean> {
  return control.evaluate((el) => el.hasAttribute('disabled'));
}
