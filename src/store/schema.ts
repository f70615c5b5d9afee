/** Table shapes as kysely sees them. Booleans are 0/1 integers so both engines read them alike. */
import type { Generated, Kysely } from 'kysely';

export interface SecretsTable {
  id: string;
  platform: string;
  account: string;
  livemode: number;
  scope_type: string;
  /** '' for account scope, so one digest covers both scope kinds alike. */
  scope_user: string;
  name: string;
  /** Digests of the scope, and of the name in it, that the indexes hold (see row-keys.ts). */
  scope_key: Uint8Array;
  name_key: Uint8Array;
  ciphertext: Uint8Array;
  created: number;
  expires_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  key_hash: string;
  /** A masked form of the key (`sk_test_…abcd`) for `keys list`; never enough to use it. */
  display: string;
  livemode: number;
  platform: string;
  user_id: string | null;
  created: number;
  revoked_at: number | null;
}

export interface IdempotencyKeysTable {
  owner: string;
  idem_key: string;
  fingerprint: string;
  request_id: string;
  /** null while the first request is still running. */
  status: number | null;
  body: string | null;
  created: number;
  /** Until when an unfinished request holds the key; after that a retry may take it over. */
  locked_until: number;
}

export interface AuditLogTable {
  seq: Generated<number>;
  time: number;
  request_id: string;
  key_id: string | null;
  platform: string;
  account: string;
  livemode: number;
  operation: string;
  scope_type: string;
  scope_user: string | null;
  name: string | null;
  outcome: string;
  status: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  secrets: SecretsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  meta: MetaTable;
  audit_log: AuditLogTable;
}

export type Db = Kysely<Database>;
