/**
 * Fixed-size keys for a scope and for a name in its scope: the secrets table is indexed by these.
 * A scope's user and a name may each be 5,000 characters (20,000 bytes of UTF-8), and PostgreSQL's
 * btree refuses index rows over 2,704 bytes whenever they do not compress well; a digest fits any
 * index on either engine. Queries compare the text columns as well, so a digest only finds rows;
 * alone it decides the uniqueness of a name in its scope, which SHA-256 makes safe in practice.
 */
import { hash } from 'node:crypto';

/** A scope as the columns hold it (livemode 0 or 1, scope_user '' for account scope). */
export interface ScopeColumns {
  readonly platform: string;
  readonly account: string;
  readonly livemode: number;
  readonly scopeType: string;
  readonly scopeUser: string;
}

// JSON keeps the parts apart whatever they contain, so two different keys never encode alike.
const digest = (parts: readonly (string | number)[]): Buffer => hash('sha256', JSON.stringify(parts), 'buffer');

/** The `scope_key` column: the scope's digest (lists and the cap count go by it). */
export const scopeKeyOf = (s: ScopeColumns): Buffer =>
  digest([s.platform, s.account, s.livemode, s.scopeType, s.scopeUser]);

/** The `name_key` column: the digest of a name in its scope, unique in the table. */
export const nameKeyOf = (s: ScopeColumns, name: string): Buffer =>
  digest([s.platform, s.account, s.livemode, s.scopeType, s.scopeUser, name]);
