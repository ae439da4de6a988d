import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openChannel, RequestTimeoutError, type Transport } from '../../src/protocol/channel';

// birpc unrefs its timers (a real transport keeps the process alive); keep this test process alive meanwhile.
const keepAlive = setInterval(() => {}, 1000);
after(() => clearInterval(keepAlive));

/** Two in-memory transports wired to each other (like a parent and a forked child). */
function pipePair(): [Transport, Transport] {
  const handlers: [Set<(m: unknown) => void>, Set<(m: unknown) => void>] = [new Set(), new Set()];
  const side = (mine: 0 | 1): Transport => ({
    post: (m) => queueMicrotask(() => handlers[1 - mine].forEach((h) => h(structuredClone(m)))),
    listen: (h) => {
      handlers[mine].add(h);
      return () => handlers[mine].delete(h);
    },
  });
  return [side(0), side(1)];
}

interface Server {
  add(a: number, b: number): Promise<number>;
  fail(): Promise<void>;
  hang(): Promise<void>;
}
interface Client {
  note(text: string): void;
}

/** The server side: adds, throws 'nope', or never answers. */
const SERVER: Server = {
  add: async (x, y) => x + y,
  fail: async () => {
    throw new Error('nope');
  },
  hang: () => new Promise(() => {}),
};

test('requests resolve with the remote result and carry ids across concurrent calls', async () => {
  const [a, b] = pipePair();
  openChannel<Client, Server>(SERVER, b, { timeoutMs: 1000, eventNames: ['note'] });
  const client = openChannel<Server, Client>({ note: () => {} }, a, { timeoutMs: 1000 });
  const results = await Promise.all([client.add(1, 2), client.add(10, 20), client.add(-1, 1)]);
  assert.deepEqual(results, [3, 30, 0]);
});

test('an error thrown remotely rejects the request with its message', async () => {
  const [a, b] = pipePair();
  openChannel<Client, Server>(SERVER, b, { timeoutMs: 1000 });
  const client = openChannel<Server, Client>({ note: () => {} }, a, { timeoutMs: 1000 });
  await assert.rejects(client.fail(), /nope/);
});

test('a request with no answer rejects with RequestTimeoutError', async () => {
  const [a, b] = pipePair();
  openChannel<Client, Server>({ add: async (x, y) => x + y, fail: async () => {}, hang: () => new Promise(() => {}) }, b, {
    timeoutMs: 1000,
  });
  const client = openChannel<Server, Client>({ note: () => {} }, a, { timeoutMs: 50 });
  await assert.rejects(client.hang(), (e: unknown) => e instanceof RequestTimeoutError && /hang/.test(e.message));
});

test('closing the channel rejects pending requests', async () => {
  const [a, b] = pipePair();
  openChannel<Client, Server>({ add: async (x, y) => x + y, fail: async () => {}, hang: () => new Promise(() => {}) }, b, {
    timeoutMs: 10_000,
  });
  const client = openChannel<Server, Client>({ note: () => {} }, a, { timeoutMs: 10_000 });
  const pending = client.hang();
  client.$close(new Error('worker exited with code 1'));
  await assert.rejects(pending, /worker exited/);
});

test('events are delivered without waiting for a reply', async () => {
  const [a, b] = pipePair();
  const seen: string[] = [];
  const server = openChannel<Client, Server>({ add: async (x, y) => x + y, fail: async () => {}, hang: () => new Promise(() => {}) }, b, {
    timeoutMs: 1000,
    eventNames: ['note'],
  });
  openChannel<Server, Client>(
    {
      note: (t) => {
        seen.push(t);
      },
    },
    a,
    { timeoutMs: 1000 },
  );
  server.note('hello');
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, ['hello']);
});
