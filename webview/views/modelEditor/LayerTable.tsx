// SPDX-License-Identifier: Apache-2.0
/** The virtualised, sortable layer table: only the visible rows are in the DOM, so thousands of nodes stay fast. */
import React, { useEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { compact, sig } from '../../shared/format';
import { heat } from '../../shared/styles';
import type { LayerRow, SortKey, SortState } from './layerRows';

const COLUMNS: { key: SortKey; label: string; title: string; num?: boolean }[] = [
  { key: 'name', label: 'Name', title: 'ONNX node name' },
  { key: 'op', label: 'Op', title: 'Operator type' },
  { key: 'shape', label: 'Output', title: 'First output shape' },
  { key: 'params', label: 'Params', title: 'Weight parameters', num: true },
  { key: 'macs', label: 'MACs', title: 'Multiply-accumulates per inference', num: true },
  { key: 'sensitivity', label: 'Sensitivity', title: 'Output change with this layer alone quantized (int4 when measured); colour = rank', num: true },
  { key: 'format', label: 'Format', title: 'Current format from the config' },
  { key: 'tags', label: 'Tags', title: 'Distribution tags' },
  { key: 'range', label: 'Weights min…max', title: 'Weight range', num: true },
  { key: 'kurtosis', label: 'Kurt.', title: 'Weight kurtosis (3 = normal)', num: true },
];
const TEMPLATE = 'minmax(150px,2.4fr) 92px 100px 70px 70px 96px 118px minmax(80px,1fr) 140px 52px';
const ROW_HEIGHT = 24;

function Cell({ row, k }: { row: LayerRow; k: SortKey }): React.ReactElement {
  const l = row.layer, w = l.weightStats;
  switch (k) {
    case 'name': return <div className="mono" title={l.name}>{l.name}</div>;
    case 'op': return <div>{l.op}</div>;
    case 'shape': return <div className="mono" title={row.outShape}>{row.outShape}</div>;
    case 'params': return <div className="num">{l.params ? compact(l.params) : ''}</div>;
    case 'macs': return <div className="num">{l.macs ? compact(l.macs) : ''}</div>;
    case 'range': return <div className="num mono">{w ? `${sig(w.min)} … ${sig(w.max)}` : ''}</div>;
    case 'kurtosis': return <div className="num">{w ? sig(w.kurtosis, 2) : ''}</div>;
    case 'tags': return <div title={l.tags.map((t) => `${t.id}: ${t.reason}`).join('\n')}>{l.tags.map((t) => <span key={t.id} className="tag">{t.id}</span>)}</div>;
    case 'sensitivity': return <div className="num">{row.sensitivity === undefined ? '' : <span className="sens" data-rank={row.sensitivityRank.toFixed(2)} style={{ background: heat(row.sensitivityRank) }}>{sig(row.sensitivity, 2)}</span>}</div>;
    case 'format': return <div className="fmt">{row.formatLabel}</div>;
    default: return <div />;
  }
}

export function LayerTable(props: {
  rows: LayerRow[]; sort: SortState; onSort(s: SortState): void; selected: string | null; onSelect(name: string): void; canExecute: boolean;
}): React.ReactElement {
  const { rows, sort, selected } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const selectedIndex = rows.findIndex((r) => r.layer.name === selected);

  // keep the selected row in view when the selection comes from elsewhere (tree view, panels)
  useEffect(() => { if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' }); }, [selectedIndex, virtualizer]);

  const onKey = (e: React.KeyboardEvent): void => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const next = Math.max(0, Math.min(rows.length - 1, selectedIndex + (e.key === 'ArrowDown' ? 1 : -1)));
    if (rows[next]) props.onSelect(rows[next].layer.name);
  };

  return (
    <div className="table-wrap" ref={scrollRef} style={{ overflow: 'auto', height: '100%' }} tabIndex={0} onKeyDown={onKey} role="grid" aria-rowcount={rows.length} data-testid="layer-table">
      <div className="thead" style={{ gridTemplateColumns: TEMPLATE }} role="row">
        {COLUMNS.map((c) => (
          <div key={c.key} role="columnheader" title={c.title} className={c.num ? 'num' : ''} data-sort={c.key}
            aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
            onClick={() => props.onSort({ key: c.key, desc: sort.key === c.key ? !sort.desc : c.num === true })}>
            {c.label}{sort.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
          </div>
        ))}
      </div>
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => {
          const row = rows[item.index];
          const context = JSON.stringify({ webviewSection: 'layer', layerName: row.layer.name, layerOp: row.layer.op, canExecute: props.canExecute, preventDefaultContextMenuItems: true });
          return (
            <div key={row.layer.name} role="row" data-layer={row.layer.name} data-vscode-context={context}
              className={`trow${row.layer.name === selected ? ' selected' : ''}`} aria-selected={row.layer.name === selected}
              style={{ gridTemplateColumns: TEMPLATE, position: 'absolute', top: 0, left: 0, right: 0, height: ROW_HEIGHT, transform: `translateY(${item.start}px)` }}
              onClick={() => props.onSelect(row.layer.name)}
              onContextMenu={() => props.onSelect(row.layer.name)}>
              {COLUMNS.map((c) => <Cell key={c.key} row={row} k={c.key} />)}
            </div>
          );
        })}
      </div>
    </div>
  );
}
