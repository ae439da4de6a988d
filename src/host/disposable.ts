/**
 * One lifecycle style for the extension side (as vscode-hexeditor's `Disposable._register`): an object owns what it
 * creates by passing it to `own()`, and `dispose()` releases all of it. Typed structurally, so this file does not
 * load vscode and is unit-tested in plain Node.
 */

/** Anything that can be disposed: a vscode.Disposable, an event subscription, one of our own classes. */
export interface DisposableLike {
  dispose(): unknown;
}

/** A cleanup function as a disposable (e.g. the `off` function an `onDidChange` returns). */
export function toDisposable(cleanup: () => unknown): DisposableLike {
  return { dispose: cleanup };
}

/**
 * Disposables released together, newest first. One that throws is reported and the rest are still released.
 * Whatever is added after `dispose()` is released at once, so a late registration (an async activation step
 * finishing after deactivation) cannot leak.
 */
export class DisposableStore implements DisposableLike {
  private items: DisposableLike[] = [];
  private disposed = false;

  constructor(private readonly onError: (error: unknown) => void = (e) => console.error('NormScope: dispose failed', e)) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends DisposableLike>(item: T): T {
    if (this.disposed) this.release(item);
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) this.release(item);
  }

  private release(item: DisposableLike): void {
    try {
      item.dispose();
    } catch (e) {
      this.onError(e);
    }
  }
}

/** Base of the classes that own disposables: `own()` what you create, and `dispose()` releases it all. */
export abstract class Disposable implements DisposableLike {
  private readonly store = new DisposableStore();

  protected own<T extends DisposableLike>(item: T): T {
    return this.store.add(item);
  }

  protected get isDisposed(): boolean {
    return this.store.isDisposed;
  }

  dispose(): void {
    this.store.dispose();
  }
}
