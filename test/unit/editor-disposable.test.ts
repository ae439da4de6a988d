import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disposable, DisposableStore, toDisposable } from '../../src/host/disposable';

/** A disposable that writes its name to `log` when disposed (the shape of a vscode.Disposable). */
const named = (log: string[], name: string) => ({ dispose: () => void log.push(name) });

test('a store disposes what it owns newest first, once', () => {
  const log: string[] = [];
  const store = new DisposableStore();
  store.add(named(log, 'a'));
  store.add(toDisposable(() => log.push('b')));
  store.add(named(log, 'c'));
  assert.equal(store.isDisposed, false);
  store.dispose();
  store.dispose();
  assert.deepEqual(log, ['c', 'b', 'a']);
  assert.equal(store.isDisposed, true);
});

test('one disposable that throws is reported and the others are still disposed', () => {
  const log: string[] = [];
  const errors: unknown[] = [];
  const store = new DisposableStore((e) => errors.push(e));
  store.add(named(log, 'first'));
  store.add({
    dispose: () => {
      throw new Error('broken');
    },
  });
  store.add(named(log, 'last'));
  store.dispose();
  assert.deepEqual(log, ['last', 'first']);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ['broken'],
  );
});

test('what is added after disposal is disposed at once and still returned', () => {
  const log: string[] = [];
  const store = new DisposableStore();
  store.dispose();
  const late = named(log, 'late');
  assert.equal(store.add(late), late);
  assert.deepEqual(log, ['late']);
  store.dispose();
  assert.deepEqual(log, ['late'], 'not disposed a second time');
});

test('a Disposable subclass owns with own() and releases on dispose(), including after it', () => {
  const log: string[] = [];
  class Provider extends Disposable {
    readonly emitter = this.own(named(log, 'emitter'));
    constructor() {
      super();
      this.own(toDisposable(() => log.push('subscription')));
    }
    lateRegistration(): void {
      this.own(named(log, 'late'));
    }
    get disposed(): boolean {
      return this.isDisposed;
    }
  }
  const provider = new Provider();
  assert.equal(provider.disposed, false);
  provider.dispose();
  assert.deepEqual(log, ['subscription', 'emitter']);
  assert.equal(provider.disposed, true);
  provider.lateRegistration();
  assert.deepEqual(log, ['subscription', 'emitter', 'late']);
});
