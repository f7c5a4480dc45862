// SPDX-License-Identifier: Apache-2.0
/** React hooks over the webview host: the view's data, trust, selection and persisted view state. */
import { useCallback, useEffect, useState } from 'react';
import { RESTORE_STATE_KEY, type PanelRestoreState, type TrustInfo, type ViewData } from '../protocol';
import { getHost } from './host';

/** Like useState, but kept in `vscode.setState` so it survives the webview being hidden and restored. */
export function usePersistedState<T>(key: string, initial: T): [T, (v: T | ((old: T) => T)) => void] {
  const host = getHost();
  const [value, setValue] = useState<T>(() => host.getState(key, initial));
  const set = useCallback((v: T | ((old: T) => T)) => {
    setValue((old) => {
      const next = typeof v === 'function' ? (v as (o: T) => T)(old) : v;
      host.setState(key, next);
      return next;
    });
  }, [host, key]);
  return [value, set];
}

/** The view's payload from `init` and later `update` messages, and the trust state. */
export function useViewData<V extends ViewData['view']>(view: V): { data: Extract<ViewData, { view: V }> | undefined; trust: TrustInfo; setData: (d: Extract<ViewData, { view: V }>) => void } {
  const host = getHost();
  const [data, setData] = useState<Extract<ViewData, { view: V }>>();
  const [trust, setTrust] = useState<TrustInfo>({ canExecute: false, reason: 'waiting for the host' });
  useEffect(() => {
    const offs = [
      host.on('init', (m) => { if (m.data.view === view) { setTrust(m.trust); setData(m.data as Extract<ViewData, { view: V }>); } }),
      host.on('update', (m) => { if (m.data.view === view) setData(m.data as Extract<ViewData, { view: V }>); }),
    ];
    host.ready();
    return () => offs.forEach((off) => off());
  }, [host, view]);
  return { data, trust, setData };
}

/** The label of long host work in progress (null when idle). */
export function useBusy(): string | null {
  const host = getHost();
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => host.on('busy', (m) => setBusy(m.label)), [host]);
  return busy;
}

/** Keep what VS Code needs to restore this panel after a window reload (see PanelRestoreState) in the webview state. */
export function useRestoreState(state: PanelRestoreState): void {
  const host = getHost();
  const json = JSON.stringify(state);
  useEffect(() => { host.setState(RESTORE_STATE_KEY, JSON.parse(json)); }, [host, json]);
}

/** The restore state this webview had when it was (re)loaded, read once; null in a fresh panel. */
export function useInitialRestoreState(): PanelRestoreState | null {
  const host = getHost();
  const [initial] = useState(() => host.getState<PanelRestoreState | null>(RESTORE_STATE_KEY, null));
  return initial;
}
