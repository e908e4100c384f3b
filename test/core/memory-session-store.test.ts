import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySessionStore } from '../../src/index.js';

describe('MemorySessionStore', () => {
  it('a full store refuses a new session only while its sessions are live: expired ones make room', async () => {
    let now = 1_000_000;
    const store = new MemorySessionStore(() => now, 2);
    await store.set({ user: 'alice', id: 'one' }, 'a1', 60);
    await store.set({ user: 'bob', id: 'one' }, 'b1', 60);
    await assert.rejects(store.set({ user: 'carol', id: 'one' }, 'c1', 60), /store is full/);
    // Rewriting a session already there is not a new session.
    await store.set({ user: 'alice', id: 'one' }, 'a1 refreshed', 60);

    now += 61_000;
    // Nothing read or deleted the expired sessions: they still must not fill the store.
    await store.set({ user: 'carol', id: 'one' }, 'c1', 60);
    await store.set({ user: 'dave', id: 'one' }, 'd1', 60);
    await assert.rejects(store.set({ user: 'erin', id: 'one' }, 'e1', 60), /store is full/);
    assert.equal(await store.get({ user: 'carol', id: 'one' }), 'c1');
    assert.equal(await store.get({ user: 'alice', id: 'one' }), undefined);
    assert.deepEqual(await store.listUser('bob'), []);
  });
});
