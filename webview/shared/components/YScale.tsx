// SPDX-License-Identifier: Apache-2.0
/** The linear / log y-axis choice of a histogram, as a toolkit radio group. */
import React from 'react';
import { type ControlEvent, VSCodeRadio, VSCodeRadioGroup } from '../toolkit';

/**
 * The value a radio group's change event selects. Each radio also emits `change` (on check and on uncheck) and it
 * bubbles to the group, so a radio's event counts only when that radio is the checked one.
 */
export function radioGroupValue(e: ControlEvent): string | undefined {
  const t = e.target as { value?: unknown; checked?: unknown } | null;
  if (!t) return undefined;
  if (typeof t.checked === 'boolean') return t.checked ? String(t.value) : undefined;
  return t.value === undefined || t.value === null ? undefined : String(t.value);
}

/** "y axis: linear | log"; the log radio carries `testId`. */
export function YScaleToggle({ logY, onChange, testId = 'log-y' }: { logY: boolean; onChange(logY: boolean): void; testId?: string }): React.ReactElement {
  return (
    <VSCodeRadioGroup value={logY ? 'log' : 'linear'} aria-label="y axis" data-testid="y-scale"
      onChange={(e: ControlEvent) => { const v = radioGroupValue(e); if (v) onChange(v === 'log'); }}>
      <label slot="label">y axis</label>
      <VSCodeRadio value="linear">linear</VSCodeRadio>
      <VSCodeRadio value="log" data-testid={testId}>log</VSCodeRadio>
    </VSCodeRadioGroup>
  );
}
