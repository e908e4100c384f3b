import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EmulatorState, MAX_STATE_ENTRIES } from '../../src/emulator/state.js';

describe('emulator state', () => {
  it('is bounded: a flood of codes evicts the oldest, never grows past MAX_STATE_ENTRIES', () => {
    const state = new EmulatorState();
    const data = {
      clientId: 'c',
      redirectUri: 'http://127.0.0.1/cb',
      codeChallenge: undefined,
      scopes: ['openid'],
      username: 'alice',
      authTime: 0,
      nonce: undefined,
    };
    const first = state.issueCode(data);
    let last = first;
    for (let i = 0; i < MAX_STATE_ENTRIES + 10; i += 1) last = state.issueCode(data);
    assert.equal(state.peekCode(first), undefined, 'the oldest code was evicted');
    assert.equal(state.peekCode(last)?.username, 'alice', 'the newest code is live');
  });
});
