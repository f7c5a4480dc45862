// SPDX-License-Identifier: Apache-2.0
/**
 * The `@vscode/webview-ui-toolkit` controls the views use, in one place. Microsoft deprecated the toolkit in
 * January 2025 (no further releases); we still use it because issue 7 asks for it and it gives the views VS Code's
 * own look and theme tokens. Its FAST web components style themselves with constructed stylesheets, which the
 * nonce-based CSP of extension/webviewHtml.ts allows. Not used: vscode-badge and vscode-tag, whose template sets an
 * inline style attribute the CSP refuses (tags are styled spans instead). Should the toolkit have to go, this file
 * is the seam to swap.
 */
import React from 'react';
// The toolkit and its React wrapper ship only as ES modules; this project type-checks as CommonJS (Node16), where a
// static import of one is error TS1479 although the types resolve and esbuild bundles it as usual. Importing the
// components one by one (not the toolkit's ready-made react/index.js, which wraps every component) keeps each view
// bundle ~160 KB smaller.
// @ts-expect-error TS1479, see above
import { provideReactWrapper } from '@microsoft/fast-react-wrapper';
// @ts-expect-error TS1479, see above
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeDropdown, vsCodeOption, vsCodeProgressRing, vsCodeRadio, vsCodeRadioGroup, vsCodeTextField } from '@vscode/webview-ui-toolkit';

const { wrap } = provideReactWrapper(React, provideVSCodeDesignSystem());

/** Button (appearance primary, secondary or icon). */
export const VSCodeButton = wrap(vsCodeButton(), { name: 'vscode-button' });
/** Checkbox; `onChange` gets the DOM change event (read it with `checkedOf`). */
export const VSCodeCheckbox = wrap(vsCodeCheckbox(), { name: 'vscode-checkbox', events: { onChange: 'change' } });
/** Dropdown of VSCodeOption children; `onChange` gets the DOM change event (read it with `valueOf`). */
export const VSCodeDropdown = wrap(vsCodeDropdown(), { name: 'vscode-dropdown', events: { onChange: 'change' } });
/** One option of a VSCodeDropdown. */
export const VSCodeOption = wrap(vsCodeOption(), { name: 'vscode-option' });
/** Indeterminate progress ring (long host work). */
export const VSCodeProgressRing = wrap(vsCodeProgressRing(), { name: 'vscode-progress-ring' });
/** One radio of a VSCodeRadioGroup. */
export const VSCodeRadio = wrap(vsCodeRadio(), { name: 'vscode-radio', events: { onChange: 'change' } });
/** Radio group; its `onChange` also sees each radio's change event (read it with `radioGroupValue`). */
export const VSCodeRadioGroup = wrap(vsCodeRadioGroup(), { name: 'vscode-radio-group', events: { onChange: 'change' } });
/** Single-line text field; `onInput` fires on every keystroke (read it with `valueOf`). */
export const VSCodeTextField = wrap(vsCodeTextField(), { name: 'vscode-text-field', events: { onChange: 'change', onInput: 'input' } });

/** What a toolkit control's event handler receives (a DOM event; React types it as a FormEvent as well). */
export type ControlEvent = { target: EventTarget | null };

/** The current value of the toolkit control an event came from (text field, dropdown, radio group). */
export function valueOf(e: ControlEvent): string {
  return String((e.target as { value?: unknown } | null)?.value ?? '');
}

/** The checked state of the toolkit checkbox an event came from. */
export function checkedOf(e: ControlEvent): boolean {
  return (e.target as { checked?: unknown } | null)?.checked === true;
}
