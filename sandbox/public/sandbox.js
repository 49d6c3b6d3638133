// The sandbox page: one person at a time sees their channels, their DM with keyturn, their App Home and their
// modal; everything they do is posted to /sandbox/api/act, which turns it into a signed Slack request to keyturn.
import { collectValues, fallbackText, renderBlocks } from './blocks.js';
import { textObject } from './mrkdwn.js';

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const params = new URLSearchParams(location.search);
const view = {
  as: params.get('as') ?? localStorage.getItem('keyturn-sandbox-as') ?? 'U0ALICE',
  at: params.get('at') ?? 'C0APPROVALS',
  state: undefined,
  drawn: '',
  modalKey: '',
  /** Messages seen per person and conversation, for the unread counts. */
  seen: {},
};

function names(state) {
  return {
    users: Object.fromEntries([...state.people.map((p) => [p.id, p.name]), ['U0KEYTURN', 'keyturn']]),
    groups: state.groups,
    channels: { ...state.channels },
  };
}

function toast(text, kind = 'info') {
  const t = el('div', `toast ${kind}`, text);
  $('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

async function act(body) {
  try {
    const res = await fetch('/sandbox/api/act', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ as: view.as, ...body }) });
    const answer = await res.json();
    if (!answer.ok) toast(answer.error ?? 'that did not work', 'error');
  } catch (err) {
    toast(`the sandbox did not answer: ${err.message}`, 'error');
  }
  await refresh();
}

/** A yes/no dialog for a button's confirm object. */
function confirmDialog(confirm) {
  const shownNames = names(view.state);
  return new Promise((resolve) => {
    const overlay = $('confirm');
    overlay.replaceChildren();
    const box = el('div', 'dialog confirm-dialog');
    box.setAttribute('role', 'dialog');
    box.append(el('div', 'dialog-title', confirm.title?.text ?? 'Are you sure?'));
    const body = el('div', 'dialog-body');
    body.append(textObject(confirm.text, shownNames));
    const row = el('div', 'dialog-buttons');
    const no = el('button', 'bk-button', confirm.deny?.text ?? 'Cancel');
    const yes = el('button', `bk-button ${confirm.style ?? 'primary'}`, confirm.confirm?.text ?? 'Yes');
    const done = (answer) => {
      overlay.hidden = true;
      overlay.replaceChildren();
      resolve(answer);
    };
    no.type = yes.type = 'button';
    no.addEventListener('click', () => done(false));
    yes.addEventListener('click', () => done(true));
    row.append(no, yes);
    box.append(body, row);
    overlay.append(box);
    overlay.hidden = false;
  });
}

function time(ts) {
  return new Date(Number(ts.split('.')[0]) * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function messageNode(m, state, replies) {
  const n = names(state);
  const node = el('div', `message${m.ephemeralFor ? ' ephemeral' : ''}`);
  node.dataset.ts = m.ts;
  const head = el('div', 'message-head');
  head.append(el('span', 'author', m.user === 'U0KEYTURN' ? 'keyturn' : (n.users[m.user] ?? m.user)), el('span', 'app-tag', 'APP'), el('span', 'when', time(m.ts)));
  if (m.edited) head.append(el('span', 'edited', '(edited)'));
  if (m.ephemeralFor) head.append(el('span', 'only-you', 'Only visible to you'));
  node.append(head);
  const ctx = {
    names: n,
    confirm: confirmDialog,
    onButton: (block, element) => act({ kind: 'click', channel: m.channel, ts: m.ts, block, element }),
    onSelect: (block, value, element) => act({ kind: 'click', channel: m.channel, ts: m.ts, block, element, value }),
  };
  if (m.blocks?.length) node.append(renderBlocks(m.blocks, ctx));
  else if (m.text) {
    const t = el('div', 'bk-text');
    t.append(fallbackText(m.text, n));
    node.append(t);
  }
  for (const f of m.files ?? []) {
    const a = el('a', 'file', `📎 ${f.title || f.name} (${f.name})`);
    a.href = `/sandbox/files/${encodeURIComponent(f.id)}`;
    a.setAttribute('download', f.name);
    node.append(a);
  }
  if (replies.length) {
    const thread = el('div', 'thread');
    thread.append(el('div', 'thread-count', `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`));
    for (const r of replies) thread.append(messageNode(r, state, []));
    node.append(thread);
  }
  return node;
}

function drawNav(state) {
  const item = (c) => {
    const b = el('button', `nav-item${view.at === c.id ? ' active' : ''}`, c.kind === 'channel' ? `# ${c.name}` : c.name);
    b.type = 'button';
    b.dataset.conversation = c.id;
    const key = `${view.as}:${c.id}`;
    const unread = c.messages.length - (view.seen[key] ?? 0);
    if (view.at === c.id) view.seen[key] = c.messages.length;
    else if (unread > 0) b.append(el('span', 'badge', String(unread)));
    b.addEventListener('click', () => go(c.id));
    return b;
  };
  $('nav-channels').replaceChildren(...state.conversations.filter((c) => c.kind === 'channel').map(item));
  $('nav-dms').replaceChildren(...state.conversations.filter((c) => c.kind === 'dm').map(item));
  $('nav-home').classList.toggle('active', view.at === 'home');
}

function drawMain(state) {
  const n = names(state);
  if (view.at === 'home') {
    $('title').textContent = 'keyturn — App Home';
    $('composer').hidden = true;
    const home = state.home;
    const box = el('div', 'home');
    if (!home) box.append(el('div', 'empty', 'keyturn has not published a Home for this person yet.'));
    else
      box.append(
        renderBlocks(home.view.blocks, {
          names: n,
          confirm: confirmDialog,
          onButton: (block, element) => act({ kind: 'viewClick', viewId: home.id, block, element, values: collectValues($('messages')) }),
          onSelect: (block, value, element) => act({ kind: 'select', viewId: home.id, block, element, value, values: collectValues($('messages')) }),
        }),
      );
    $('messages').replaceChildren(box);
    return;
  }
  const c = state.conversations.find((x) => x.id === view.at) ?? state.conversations[0];
  view.at = c.id;
  $('title').textContent = c.kind === 'channel' ? `# ${c.name}` : 'keyturn (direct message)';
  $('composer').hidden = false;
  const top = c.messages.filter((m) => !m.threadTs);
  const nodes = top.map((m) => messageNode(m, state, c.messages.filter((r) => r.threadTs === m.ts)));
  if (!nodes.length) nodes.push(el('div', 'empty', 'Nothing here yet.'));
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...nodes);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function drawModal(state) {
  const modal = state.modal;
  const key = modal ? `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors ?? {})}` : '';
  if (key === view.modalKey) return;
  view.modalKey = key;
  const overlay = $('modal');
  if (!modal) {
    overlay.hidden = true;
    overlay.replaceChildren();
    return;
  }
  // Slack keeps what was typed when a modal is redrawn (errors, views.update): inputs with the same block id.
  const kept = overlay.dataset.viewId === modal.id ? typedByBlockId(overlay) : undefined;
  const v = modal.view;
  const box = el('form', 'dialog modal-dialog');
  box.dataset.hash = modal.hash;
  box.setAttribute('role', 'dialog');
  box.append(el('div', 'dialog-title', v.title?.text ?? ''));
  const values = () => collectValues(box);
  const body = el('div', 'dialog-body');
  body.append(
    renderBlocks(v.blocks, {
      names: names(state),
      errors: modal.errors,
      confirm: confirmDialog,
      onButton: (block, element) => act({ kind: 'viewClick', viewId: modal.id, block, element, values: values() }),
      onSelect: (block, value, element) => act({ kind: 'select', viewId: modal.id, block, element, value, values: values() }),
    }),
  );
  const row = el('div', 'dialog-buttons');
  const close = el('button', 'bk-button', v.close?.text ?? 'Cancel');
  close.type = 'button';
  close.addEventListener('click', () => act({ kind: 'close', viewId: modal.id }));
  row.append(close);
  if (v.submit) {
    const submit = el('button', 'bk-button primary', v.submit.text);
    submit.type = 'submit';
    row.append(submit);
  }
  box.addEventListener('submit', (e) => {
    e.preventDefault();
    act({ kind: 'submit', viewId: modal.id, values: values() });
  });
  box.append(body, row);
  if (kept) restore(box, kept);
  overlay.replaceChildren(box);
  overlay.dataset.viewId = modal.id;
  overlay.dataset.hash = modal.hash;
  overlay.hidden = false;
}

function typedByBlockId(root) {
  const typed = {};
  for (const node of root.querySelectorAll('[data-block-id][data-kind]')) {
    typed[`${node.dataset.kind}:${node.dataset.blockId}`] = node.dataset.kind === 'checks' ? [...node.querySelectorAll('input:checked')].map((c) => c.value) : node.value;
  }
  return typed;
}

function restore(root, typed) {
  for (const node of root.querySelectorAll('[data-block-id][data-kind]')) {
    const v = typed[`${node.dataset.kind}:${node.dataset.blockId}`];
    if (v === undefined) continue;
    if (node.dataset.kind === 'checks') for (const c of node.querySelectorAll('input')) c.checked = v.includes(c.value);
    else if (node.dataset.kind === 'text' || [...node.options].some((o) => o.value === v && v !== '')) node.value = v;
  }
}

function draw(state) {
  // An answer asked for before the person was switched is someone else's view.
  if (state.as !== view.as) return;
  view.state = state;
  drawNav(state);
  const key = `${state.version}:${view.as}:${view.at}`;
  if (key !== view.drawn) {
    view.drawn = key;
    drawMain(state);
  }
  drawModal(state);
  document.body.dataset.version = String(state.version);
}

async function refresh() {
  try {
    const res = await fetch(`/sandbox/api/state?as=${encodeURIComponent(view.as)}`);
    draw(await res.json());
  } catch {
    // The next poll tries again; the sandbox may be stopping.
  }
}

function go(conversation) {
  view.at = conversation;
  view.drawn = '';
  if (conversation === 'home') void act({ kind: 'home' });
  else void refresh();
}

async function drawJobs() {
  const box = $('jobs');
  try {
    const { jobs } = await (await fetch('/sandbox/api/jobs')).json();
    box.replaceChildren(
      ...jobs
        .filter((j) => j.name !== 'prune-job-runs')
        .map((j) => {
          const b = el('button', 'job', `Fire now: ${j.name}`);
          b.type = 'button';
          b.title = j.nextFire ? `Next by its schedule: ${new Date(j.nextFire).toLocaleString()}` : '';
          b.addEventListener('click', async () => {
            const answer = await (await fetch(`/sandbox/api/jobs/${encodeURIComponent(j.name)}/run`, { method: 'POST' })).json();
            toast(`${j.name}: ${answer.message ?? answer.outcome}`, answer.status === 200 ? 'info' : 'error');
            await refresh();
          });
          return b;
        }),
    );
  } catch {
    box.replaceChildren(el('div', 'empty', 'keyturn did not list its jobs.'));
  }
}

async function start() {
  const first = await (await fetch(`/sandbox/api/state?as=${encodeURIComponent(view.as)}`)).json();
  const select = $('person');
  for (const p of first.people) {
    const o = el('option', '', `${p.name} — ${p.role}`);
    o.value = p.id;
    select.append(o);
  }
  select.value = view.as;
  select.addEventListener('change', () => {
    view.as = select.value;
    localStorage.setItem('keyturn-sandbox-as', view.as);
    view.drawn = '';
    view.modalKey = '';
    if (view.at === 'home') void act({ kind: 'home' });
    else void refresh();
  });
  $('nav-home').addEventListener('click', () => go('home'));
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('command').value.trim();
    if (!text) return;
    $('command').value = '';
    if (!text.startsWith('/')) return toast('The sandbox sends slash commands only, for example /secret help.', 'error');
    void act({ kind: 'command', channel: view.at, text });
  });
  draw(first);
  document.body.dataset.ready = 'true';
  void drawJobs();
  setInterval(refresh, 500);
}

void start();
