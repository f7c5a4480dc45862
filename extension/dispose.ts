// SPDX-License-Identifier: Apache-2.0
/** Disposables by construction: a base class whose `_register` ties a resource's lifetime to its owner. */
import type * as vscode from 'vscode';

export function disposeAll(disposables: vscode.Disposable[]): void {
  while (disposables.length) {
    try { disposables.pop()?.dispose(); } catch { /* keep disposing the rest */ }
  }
}

export abstract class Disposable {
  private disposed = false;
  protected readonly _disposables: vscode.Disposable[] = [];

  get isDisposed(): boolean { return this.disposed; }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeAll(this._disposables);
  }

  /** Own `value`: disposed with this object (at once, when this is already disposed). */
  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this._disposables.push(value);
    return value;
  }
}
