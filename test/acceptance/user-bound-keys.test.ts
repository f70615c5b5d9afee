import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, type InProcessHandle, removeDir, startInProcess, tempDir } from '../support/in-process-server.js';

let server: InProcessHandle;
let dataDir: string;
let platformKey: string;
let userKey: string;

beforeAll(async () => {
  dataDir = tempDir();
  server = await startInProcess({ dataDir });
  platformKey = await createKey(server, ['--mode', 'test', '--account', 'acct_Bound1']);
  userKey = await createKey(server, ['--mode', 'test', '--account', 'acct_Bound1', '--user', 'usr_Alice']);
});
afterAll(async () => {
  await server.stop();
  removeDir(dataDir);
});

describe('a key bound to one user (the model of a UI extension)', () => {
  it('may use account scope and its own user scope, sharing them with the platform key', async () => {
    const asUser = server.stripe(userKey);
    const asPlatform = server.stripe(platformKey);
    await asUser.apps.secrets.create({ name: 'shared', payload: 'from-ui', scope: { type: 'account' } });
    await asUser.apps.secrets.create({ name: 'mine', payload: 'alice', scope: { type: 'user', user: 'usr_Alice' } });
    const shared = await asPlatform.apps.secrets.find({
      name: 'shared',
      scope: { type: 'account' },
      expand: ['payload'],
    });
    expect(shared.payload).toBe('from-ui');
    const mine = await asPlatform.apps.secrets.find({
      name: 'mine',
      scope: { type: 'user', user: 'usr_Alice' },
      expand: ['payload'],
    });
    expect(mine.payload).toBe('alice');
    const listed = await asUser.apps.secrets.list({ scope: { type: 'user', user: 'usr_Alice' } });
    expect(listed.data.map((s) => s.name)).toEqual(['mine']);
    await asUser.apps.secrets.deleteWhere({ name: 'mine', scope: { type: 'user', user: 'usr_Alice' } });
  });

  it("is refused another user's scope with StripePermissionError, for every operation", async () => {
    const asPlatform = server.stripe(platformKey);
    await asPlatform.apps.secrets.create({ name: 'bob-only', payload: 'b', scope: { type: 'user', user: 'usr_Bob' } });
    const asUser = server.stripe(userKey);
    const bob = { type: 'user' as const, user: 'usr_Bob' };
    const attempts = [
      () => asUser.apps.secrets.create({ name: 'x', payload: 'y', scope: bob }),
      () => asUser.apps.secrets.find({ name: 'bob-only', scope: bob, expand: ['payload'] }),
      () => asUser.apps.secrets.list({ scope: bob }),
      () => asUser.apps.secrets.deleteWhere({ name: 'bob-only', scope: bob }),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toMatchObject({
        type: 'StripePermissionError',
        statusCode: 403,
        param: 'scope[user]',
      });
    }
    // Nothing changed for Bob.
    const still = await asPlatform.apps.secrets.find({ name: 'bob-only', scope: bob, expand: ['payload'] });
    expect(still.payload).toBe('b');
    const list = await asPlatform.apps.secrets.list({ scope: bob });
    expect(list.data.map((s) => s.name)).toEqual(['bob-only']);
  });
});
