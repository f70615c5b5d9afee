/**
 * The dashboard: a small page over the public /v1/apps/secrets API, through the typed client, so it
 * obeys the same authentication and scope rules as any app. The API key lives in sessionStorage
 * (this tab only). Payloads reach the page only when the user clicks Reveal, and leave it on Hide.
 * Everything is built with DOM APIs and textContent: no HTML is ever made from data.
 */
import { AuthenticationError, type Scope, type Secret, SecretStoreClient, SecretStoreError } from '../client/index.js';

const KEY_STORAGE = 'secret-store.apiKey';
const MAX_PER_SCOPE = 10;
const KEY_PATTERN = /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const ui = {
  signIn: element<HTMLElement>('sign-in'),
  signInForm: element<HTMLFormElement>('sign-in-form'),
  apiKey: element<HTMLInputElement>('api-key'),
  signInError: element<HTMLElement>('sign-in-error'),
  workspace: element<HTMLElement>('workspace'),
  mode: element<HTMLElement>('mode'),
  who: element<HTMLElement>('who'),
  signOut: element<HTMLButtonElement>('sign-out'),
  scopeForm: element<HTMLFormElement>('scope-form'),
  account: element<HTMLInputElement>('account'),
  scopeType: element<HTMLSelectElement>('scope-type'),
  userField: element<HTMLElement>('user-field'),
  scopeUser: element<HTMLInputElement>('scope-user'),
  scopeLabel: element<HTMLElement>('scope-label'),
  error: element<HTMLElement>('error'),
  notice: element<HTMLElement>('notice'),
  count: element<HTMLElement>('count'),
  filter: element<HTMLInputElement>('filter'),
  rows: element<HTMLTableElement>('secrets').tBodies[0] as HTMLTableSectionElement,
  empty: element<HTMLElement>('empty'),
  createForm: element<HTMLFormElement>('create-form'),
  newName: element<HTMLInputElement>('new-name'),
  newPayload: element<HTMLTextAreaElement>('new-payload'),
  newExpires: element<HTMLInputElement>('new-expires'),
};

interface Session {
  client: SecretStoreClient;
  key: string;
  /** The scope the form last asked for; undefined while it names no valid scope (no user id). */
  scope: Scope | undefined;
  account: string | undefined;
  /** The secrets of that scope, once loaded: the table never shows another scope's. */
  secrets: Secret[];
  loaded: boolean;
  /** Counts loads, so that the answer to an older one never replaces a newer one's. */
  generation: number;
}

let session: Session | undefined;

// ---- small view helpers ----

function show(target: HTMLElement, text: string | undefined): void {
  target.textContent = text ?? '';
  target.hidden = !text;
}

/** Errors in plain words: the API's own message, which is written for people. */
function explain(error: unknown): string {
  if (error instanceof AuthenticationError) return `This API key was not accepted: ${error.message}`;
  if (error instanceof SecretStoreError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function button(label: string, onClick: () => void, className = 'secondary small'): HTMLButtonElement {
  const node = make('button', label, className);
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

const formatDate = (seconds: number) => new Date(seconds * 1000).toLocaleString();

function timeLeft(expiresAt: number | null): string {
  if (expiresAt === null) return 'never';
  const left = expiresAt - Math.floor(Date.now() / 1000);
  if (left <= 0) return `${formatDate(expiresAt)} (expired)`;
  const days = Math.floor(left / 86_400);
  const hours = Math.floor((left % 86_400) / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const parts = days > 0 ? `${days}d ${hours}h` : hours > 0 ? `${hours}h ${minutes}m` : `${Math.max(minutes, 1)}m`;
  return `${formatDate(expiresAt)} (in ${parts})`;
}

const scopeText = (scope: Scope) => (scope.type === 'user' ? `user ${scope.user}` : 'account');

// ---- the secrets table ----

/** On a narrow screen each row is a card, and the cells name themselves (see dashboard.css). */
function labelled(label: string, cell: HTMLTableCellElement): HTMLTableCellElement {
  cell.dataset.label = label;
  return cell;
}

function renderRow(secret: Secret): HTMLTableRowElement {
  const row = make('tr');
  row.dataset.name = secret.name;
  const nameCell = make('td');
  nameCell.append(make('span', secret.name, 'name'));
  row.append(
    nameCell,
    labelled('Scope', make('td', scopeText(secret.scope))),
    labelled('Created', make('td', formatDate(secret.created))),
    labelled('Expires', make('td', timeLeft(secret.expires_at))),
    labelled('ID', make('td', secret.id, 'id')),
  );
  const actions = make('td', undefined, 'actions');
  row.append(actions);

  const hide = () => {
    nameCell.querySelector('.payload')?.remove();
    renderActions();
  };
  const reveal = async () => {
    if (!session) return;
    try {
      const found = await session.client.secrets.find({ name: secret.name, scope: secret.scope, expand: ['payload'] });
      nameCell.querySelector('.payload')?.remove();
      nameCell.append(make('br'), make('code', found.payload ?? '', 'payload'));
      actions.replaceChildren(
        button('Hide', hide),
        button('Copy', () => {
          void navigator.clipboard.writeText(found.payload ?? '').then(
            () => show(ui.notice, `Copied the payload of ${secret.name}.`),
            () => show(ui.error, 'The browser did not allow copying to the clipboard.'),
          );
        }),
      );
    } catch (error) {
      show(ui.error, explain(error));
    }
  };
  const confirmDelete = () => {
    actions.replaceChildren(
      make('span', `Delete ${secret.name}?`, 'confirm'),
      button('Delete', () => void remove(secret), 'danger small'),
      button('Cancel', renderActions),
    );
  };
  function renderActions() {
    nameCell.querySelector('br')?.remove();
    actions.replaceChildren(
      button('Reveal', () => void reveal()),
      button('Delete', confirmDelete),
    );
  }
  renderActions();
  return row;
}

function renderTable(): void {
  if (!session) return;
  const { scope, loaded, secrets } = session;
  const filter = ui.filter.value.trim().toLowerCase();
  const shown = secrets.filter((s) => s.name.toLowerCase().includes(filter));
  ui.rows.replaceChildren(...shown.map(renderRow));
  ui.empty.hidden = shown.length > 0;
  ui.empty.textContent = !scope
    ? 'Enter a user id and press Show.'
    : !loaded
      ? 'This scope could not be shown.'
      : secrets.length === 0
        ? 'No secrets in this scope.'
        : 'No secret matches the filter.';
  ui.count.textContent = loaded ? `${secrets.length} / ${MAX_PER_SCOPE}` : `– / ${MAX_PER_SCOPE}`;
  ui.count.classList.toggle('full', loaded && secrets.length >= MAX_PER_SCOPE);
  ui.scopeLabel.textContent = scope ? `in ${scopeText(scope)}${session.account ? ` of ${session.account}` : ''}` : '';
}

/** Loads the session's scope into the table; on failure the table is left empty, never stale. */
async function load(): Promise<void> {
  const current = session;
  const scope = current?.scope;
  if (!current || !scope) return;
  const generation = ++current.generation;
  const { account } = current;
  const isLatest = () => session === current && current.generation === generation;
  try {
    const secrets: Secret[] = [];
    for await (const secret of current.client.secrets.listAll({ scope, limit: 100 }, { stripeAccount: account })) {
      secrets.push(secret);
    }
    if (!isLatest()) return;
    current.secrets = secrets;
    current.loaded = true;
  } catch (error) {
    if (!isLatest()) return;
    current.secrets = [];
    current.loaded = false;
    throw error;
  } finally {
    if (isLatest()) renderTable();
  }
}

async function remove(secret: Secret): Promise<void> {
  if (!session) return;
  try {
    await session.client.secrets.deleteWhere(
      { name: secret.name, scope: secret.scope },
      { stripeAccount: session.account },
    );
    show(ui.error, undefined);
    show(ui.notice, `Deleted ${secret.name}.`);
    await load();
  } catch (error) {
    show(ui.error, explain(error));
  }
}

// ---- scope and create forms ----

function readScope(): Scope | undefined {
  if (ui.scopeType.value === 'account') return { type: 'account' };
  const user = ui.scopeUser.value.trim();
  return user ? { type: 'user', user } : undefined;
}

ui.scopeType.addEventListener('change', () => {
  ui.userField.hidden = ui.scopeType.value !== 'user';
});

ui.scopeForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!session) return;
  // The table follows the form at once: what was shown before is gone, whatever happens next.
  session.scope = readScope();
  session.account = ui.account.value.trim() || undefined;
  session.secrets = [];
  session.loaded = false;
  session.generation++;
  show(ui.notice, undefined);
  renderTable();
  if (!session.scope) {
    show(ui.error, 'Enter the user id (usr_...) whose scope you want to see.');
    return;
  }
  show(ui.error, undefined);
  load().catch((error: unknown) => show(ui.error, explain(error)));
});

ui.filter.addEventListener('input', renderTable);

ui.createForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!session) return;
  const current = session;
  const scope = current.scope;
  if (!scope) {
    show(ui.error, 'Choose a scope first: enter a user id and press Show.');
    return;
  }
  const name = ui.newName.value;
  const expires = ui.newExpires.value ? Math.floor(new Date(ui.newExpires.value).getTime() / 1000) : undefined;
  const replacing = current.secrets.some((s) => s.name === name);
  current.client.secrets
    .create({ name, payload: ui.newPayload.value, scope, expiresAt: expires }, { stripeAccount: current.account })
    .then(async () => {
      ui.createForm.reset();
      show(ui.error, undefined);
      show(ui.notice, `${replacing ? 'Replaced' : 'Created'} ${name}.`);
      await load();
    })
    .catch((error: unknown) => {
      show(ui.notice, undefined);
      show(ui.error, explain(error));
    });
});

// ---- signing in and out ----

async function signIn(key: string): Promise<void> {
  if (!KEY_PATTERN.test(key))
    throw new Error('An API key looks like sk_test_..., sk_live_..., rk_test_... or rk_live_....');
  const client = new SecretStoreClient({ apiKey: key, baseUrl: window.location.origin, maxRetries: 1 });
  const candidate: Session = {
    client,
    key,
    scope: { type: 'account' },
    account: undefined,
    secrets: [],
    loaded: false,
    generation: 0,
  };
  session = candidate;
  try {
    await load();
  } catch (error) {
    session = undefined;
    throw error;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  const live = key.split('_')[1] === 'live';
  ui.mode.textContent = live ? 'LIVE MODE' : 'TEST MODE';
  ui.mode.className = `badge ${live ? 'live' : 'test'}`;
  ui.who.textContent = `${key.slice(0, 8)}…${key.slice(-4)}`;
  for (const node of [ui.mode, ui.who, ui.signOut, ui.workspace]) node.hidden = false;
  ui.signIn.hidden = true;
  ui.apiKey.value = '';
  show(ui.signInError, undefined);
}

function signOut(): void {
  sessionStorage.removeItem(KEY_STORAGE);
  session = undefined;
  ui.rows.replaceChildren();
  for (const form of [ui.createForm, ui.scopeForm, ui.signInForm]) form.reset();
  ui.userField.hidden = true;
  ui.filter.value = '';
  for (const node of [ui.mode, ui.who, ui.signOut, ui.workspace, ui.error, ui.notice]) node.hidden = true;
  ui.signIn.hidden = false;
  ui.apiKey.focus();
}

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  signIn(ui.apiKey.value.trim()).catch((error: unknown) => show(ui.signInError, explain(error)));
});
ui.signOut.addEventListener('click', signOut);

const remembered = sessionStorage.getItem(KEY_STORAGE);
if (remembered) {
  signIn(remembered).catch(() => {
    sessionStorage.removeItem(KEY_STORAGE);
  });
}
