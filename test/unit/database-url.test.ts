import { describe, expect, it } from 'vitest';
import { redactDatabaseUrl } from '../../src/store/postgres/database-url.js';

describe('redactDatabaseUrl', () => {
  it.each([
    ['postgres://app:hunter2@db:5432/secrets', 'postgres://app:***@db:5432/secrets'],
    ['postgres://app@db/secrets?password=hunter2', 'postgres://app@db/secrets?password=***'],
    [
      'postgresql://app@db/secrets?sslmode=require&sslpassword=hunter2',
      'postgresql://app@db/secrets?sslmode=require&sslpassword=***',
    ],
    ['postgres://db/secrets?user=app&PassWord=hunter2', 'postgres://db/secrets?user=app&PassWord=***'],
    ['postgres://db/secrets?pass%77ord=hunter2', 'postgres://db/secrets?password=***'],
    [
      'postgres://db/x?passfile=/home/hunter2/.pgpass&sslkey=/keys/hunter2.key',
      'postgres://db/x?passfile=***&sslkey=***',
    ],
    ['postgres://db/x?password=hunter2&password=again', 'postgres://db/x?password=***'],
    ['postgres://db/x?api_token=hunter2&application_name=web', 'postgres://db/x?api_token=***&application_name=web'],
    ['postgres://app:hunter2@db/x#hunter2', 'postgres://app:***@db/x'],
  ])('%s -> %s', (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
    expect(redactDatabaseUrl(url)).not.toContain('hunter2');
  });

  it('shows nothing of a URL it cannot parse', () => {
    expect(redactDatabaseUrl('postgres://app:hunter2@[db/x')).toBe('postgres://(unparseable url, not shown)');
  });
});
