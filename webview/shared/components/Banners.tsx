// SPDX-License-Identifier: Apache-2.0
/** Trust, busy and error banners shared by every view. */
import React from 'react';
import type { TrustInfo } from '../../protocol';
import { VSCodeButton, VSCodeProgressRing } from '../toolkit';

/** Shown when the workspace is untrusted: what still works and why the rest does not. */
export function TrustBanner({ trust }: { trust: TrustInfo }): React.ReactElement | null {
  if (trust.canExecute) return null;
  return <div className="banner" role="status" data-testid="trust-banner">Inspect only: {trust.reason ?? 'this workspace is not trusted, so QuantLens does not execute the model.'}</div>;
}

/** An error from the host, as an alert. */
export function ErrorBanner({ error }: { error: string | null }): React.ReactElement | null {
  return error ? <div className="banner error" role="alert" data-testid="error-banner">{error}</div> : null;
}

/** Long host work in progress, with a progress ring and Cancel when the work can be cancelled. */
export function BusyBanner({ label, onCancel }: { label: string | null; onCancel?: () => void }): React.ReactElement | null {
  if (!label) return null;
  return (
    <div className="banner row busy" role="status" data-testid="busy-banner">
      <VSCodeProgressRing className="ring" aria-hidden="true" /><span>{label}…</span>
      {onCancel && <VSCodeButton appearance="secondary" onClick={onCancel} data-testid="cancel">Cancel</VSCodeButton>}
    </div>
  );
}

/** A titled number card. */
export function Card({ title, value, hint, tone, testId }: { title: string; value: string; hint?: string; tone?: 'good' | 'bad'; testId?: string }): React.ReactElement {
  return <div className="card" data-testid={testId}><div className="muted">{title}</div><div className={`v ${tone ?? ''}`}>{value}</div>{hint && <div className="muted">{hint}</div>}</div>;
}
