// SPDX-License-Identifier: Apache-2.0
/** Mount a view: styles, the root, an error boundary, and the init handshake via useViewData. */
import React from 'react';
import { createRoot } from 'react-dom/client';
import type { TrustInfo, ViewData } from '../protocol';
import { getHost } from './host';
import { useBusy, useViewData } from './hooks';
import { installStyles } from './styles';
import { VSCodeProgressRing } from './toolkit';

class ErrorBoundary extends React.Component<{ children: React.ReactNode }, { error: string | null }> {
  override state = { error: null as string | null };
  static getDerivedStateFromError(e: unknown): { error: string } { return { error: String((e as Error)?.message ?? e) }; }
  override componentDidCatch(e: unknown): void { getHost().post({ type: 'log', level: 'error', message: `view crashed: ${String((e as Error)?.stack ?? e).slice(0, 4000)}` }); }
  override render(): React.ReactNode {
    return this.state.error ? <div className="banner error" role="alert">This view failed: {this.state.error}</div> : this.props.children;
  }
}

/** Render `View` once the host has sent this view's data. */
export function boot<V extends ViewData['view']>(view: V, View: React.ComponentType<{ data: Extract<ViewData, { view: V }>; trust: TrustInfo; busy: string | null }>): void {
  function App(): React.ReactElement {
    const { data, trust } = useViewData(view);
    const busy = useBusy();
    return data ? <View data={data} trust={trust} busy={busy} /> : <p className="row muted" data-testid="loading"><VSCodeProgressRing aria-hidden="true" />Loading…</p>;
  }
  installStyles();
  createRoot(document.getElementById('root')!).render(<ErrorBoundary><App /></ErrorBoundary>);
}
