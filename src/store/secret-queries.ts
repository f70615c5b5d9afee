/**
 * The secrets table's queries, written once for both engines and prepared once per engine (see
 * prepared-query.ts): the values they bind, the filters they share, and the hot queries.
 */
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { StoreEngine } from './engine.js';
import { prepare } from './prepared-query.js';
import { nameKeyOf, type ScopeColumns, scopeKeyOf } from './row-keys.js';
import type { Database, SecretsTable } from './schema.js';
import type { ScopeKey, SecretKey } from './secret-store.js';

type SecretsEb = ExpressionBuilder<Database, 'secrets'>;

/** A scope as the columns hold it, with its digest. */
export interface ScopeValues extends ScopeColumns {
  readonly scopeKey: Uint8Array;
}

/** A name in its scope as the columns hold it, with its digest (the scope's is not needed). */
export interface NamedValues extends ScopeColumns {
  readonly name: string;
  readonly nameKey: Uint8Array;
  readonly now: number;
}

/*
 * The objects built for every request are extended with Object.assign, never with object spread: on
 * Node 20 the objects a spread built were promoted out of the young generation although they died
 * with their request (measured with --trace-gc-nvp: about 2 KB per find), which grew the old
 * generation under load until the next full collection and raised the peak RSS by tens of megabytes.
 */
export const scopeColumns = (s: ScopeKey): ScopeColumns => ({
  platform: s.platform,
  account: s.account,
  livemode: s.livemode ? 1 : 0,
  scopeType: s.scopeType,
  scopeUser: s.scopeUser,
});

export const scopeValues = (s: ScopeKey): ScopeValues => {
  const columns = scopeColumns(s);
  return Object.assign(columns, { scopeKey: scopeKeyOf(columns) });
};

export const namedValues = (key: SecretKey, now: number): NamedValues => {
  const columns = scopeColumns(key);
  return Object.assign(columns, { name: key.name, nameKey: nameKeyOf(columns, key.name), now });
};

/** A write asks about the name and about its scope: both digests. */
export const writeValues = (key: SecretKey, now: number): NamedValues & ScopeValues => {
  const values = namedValues(key, now);
  return Object.assign(values, { scopeKey: scopeKeyOf(values) });
};

const inScope = (scope: ScopeColumns) => (eb: SecretsEb) =>
  eb.and([
    eb('platform', '=', scope.platform),
    eb('account', '=', scope.account),
    eb('livemode', '=', scope.livemode),
    eb('scope_type', '=', scope.scopeType),
    eb('scope_user', '=', scope.scopeUser),
  ]);

/** The scope's rows, found through its digest (secrets_by_scope) and checked column by column. */
const ofScope = (scope: ScopeValues) => (eb: SecretsEb) =>
  eb.and([eb('scope_key', '=', scope.scopeKey), inScope(scope)(eb)]);

export const live = (now: number) => (eb: SecretsEb) =>
  eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);

/** The live row of a name, found through its digest (secrets_by_name_key) and checked. */
const named = (key: NamedValues) => (eb: SecretsEb) =>
  eb.and([eb('name_key', '=', key.nameKey), inScope(key)(eb), eb('name', '=', key.name), live(key.now)(eb)]);

const FOUND_COLUMNS = ['id', 'created', 'expires_at', 'ciphertext'] as const;
export type FoundRow = Pick<Selectable<SecretsTable>, (typeof FOUND_COLUMNS)[number]>;

export type Cursor = { readonly created: number; readonly id: string };
type PageValues = ScopeValues & { readonly now: number; readonly limit: number };
type BoundPageValues = PageValues & { readonly boundCreated: number; readonly boundId: string };

export type SecretsColumn = keyof SecretsTable & string;

type PreparingEngine = Pick<StoreEngine, 'db' | 'runPrepared'>;

/** The three queries of a list page (first, after a cursor, before one), selecting `columns`. */
function pageQueries<C extends SecretsColumn>(engine: PreparingEngine, columns: readonly C[]) {
  const db = engine.db;
  type Row = Pick<Selectable<SecretsTable>, C>;
  const page = (direction: 'asc' | 'desc', s: PageValues) =>
    db
      .selectFrom('secrets')
      .select(columns)
      .where(ofScope(s))
      .where(live(s.now))
      .orderBy('created', direction)
      .orderBy('id', direction)
      .limit(s.limit);
  const boundedPage = (direction: 'asc' | 'desc', cmp: '<' | '>') =>
    prepare<BoundPageValues, Row>(engine, (s) =>
      page(direction, s).where((eb) =>
        eb.or([
          eb('created', cmp, s.boundCreated),
          eb.and([eb('created', '=', s.boundCreated), eb('id', cmp, s.boundId)]),
        ]),
      ),
    );
  return {
    first: prepare<PageValues, Row>(engine, (s) => page('desc', s)),
    after: boundedPage('desc', '<'),
    before: boundedPage('asc', '>'),
  };
}

export type PageQueries<C extends SecretsColumn> = ReturnType<typeof pageQueries<C>>;

/** A page leaves out the envelopes unless asked: they are most of a row, and only payloads need them. */
const LISTED_COLUMNS = ['id', 'name', 'created', 'expires_at'] as const;
const SEALED_COLUMNS = [...LISTED_COLUMNS, 'ciphertext'] as const;
export type ListedRow = Pick<Selectable<SecretsTable>, (typeof LISTED_COLUMNS)[number]>;

/** The queries every request runs, prepared once (see prepared-query.ts). */
export function hotQueries(engine: PreparingEngine) {
  const db = engine.db;
  return {
    // Only the columns the key does not already give: fewer values to copy out of every find.
    find: prepare<NamedValues, FoundRow>(engine, (s) => db.selectFrom('secrets').select(FOUND_COLUMNS).where(named(s))),
    // One statement for both questions a write asks: is the name taken, and how full is the scope.
    occupancy: prepare<NamedValues & ScopeValues, { existing: string | null; n: number | string }>(engine, (s) =>
      db.selectNoFrom((eb) => [
        eb.selectFrom('secrets').select('id').where(named(s)).as('existing'),
        eb
          .selectFrom('secrets')
          .select((c) => c.fn.countAll().as('n'))
          .where(ofScope(s))
          .where(live(s.now))
          .as('n'),
      ]),
    ),
    findById: prepare<ScopeColumns & { id: string; now: number }, Selectable<SecretsTable>>(engine, (s) =>
      db.selectFrom('secrets').selectAll().where('id', '=', s.id).where(inScope(s)).where(live(s.now)),
    ),
    deleteById: prepare<{ id: string }, never>(engine, (s) => db.deleteFrom('secrets').where('id', '=', s.id)),
    upsert: prepare<Selectable<SecretsTable>, never>(engine, (s) =>
      db
        .insertInto('secrets')
        .values({
          id: s.id,
          platform: s.platform,
          account: s.account,
          livemode: s.livemode,
          scope_type: s.scope_type,
          scope_user: s.scope_user,
          name: s.name,
          scope_key: s.scope_key,
          name_key: s.name_key,
          ciphertext: s.ciphertext,
          created: s.created,
          expires_at: s.expires_at,
        })
        .onConflict((oc) =>
          oc.column('name_key').doUpdateSet((eb) => ({
            id: eb.ref('excluded.id'),
            ciphertext: eb.ref('excluded.ciphertext'),
            created: eb.ref('excluded.created'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        ),
    ),
    listed: pageQueries(engine, LISTED_COLUMNS),
    sealed: pageQueries(engine, SEALED_COLUMNS),
  };
}

export type HotQueries = ReturnType<typeof hotQueries>;
