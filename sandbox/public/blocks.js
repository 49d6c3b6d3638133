// Block Kit drawn as Slack draws it, for the blocks keyturn sends. Every text goes through textObject/mrkdwn
// (text nodes only). Interactive elements call back with their block's index, so the server finds the element
// in the Block Kit keyturn sent and builds the payload from it.
import { mrkdwn, textObject } from './mrkdwn.js';

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const plainOf = (obj) => String(obj?.text ?? '');

/** A button; a confirm dialog, when it has one, asks first. */
function button(element, ctx, blockIndex, elementIndex) {
  const b = el('button', `bk-button${element.style ? ` ${element.style}` : ''}`, plainOf(element.text));
  b.type = 'button';
  b.dataset.actionId = element.action_id ?? '';
  b.addEventListener('click', async () => {
    if (element.confirm && !(await ctx.confirm(element.confirm))) return;
    if (element.url) window.open(element.url, '_blank', 'noopener');
    ctx.onButton(blockIndex, elementIndex);
  });
  return b;
}

function options(element) {
  return [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g) => g.options ?? [])];
}

function select(element, blockIndex, onChange) {
  const s = el('select', 'bk-select');
  s.dataset.blockIndex = String(blockIndex);
  s.dataset.kind = 'select';
  // Like Slack: a placeholder until something is chosen, and no way back to nothing once it is.
  if (!element.initial_option) {
    const none = el('option', '', plainOf(element.placeholder) || 'Choose an option');
    none.value = '';
    none.disabled = true;
    s.append(none);
  }
  for (const o of options(element)) {
    const option = el('option', '', plainOf(o.text));
    option.value = o.value;
    s.append(option);
  }
  s.value = element.initial_option?.value ?? '';
  if (onChange) s.addEventListener('change', () => onChange(s.value));
  return s;
}

function checkboxes(element, blockIndex, names) {
  const box = el('div', 'bk-checkboxes');
  box.dataset.blockIndex = String(blockIndex);
  box.dataset.kind = 'checks';
  const initial = new Set((element.initial_options ?? []).map((o) => o.value));
  for (const o of options(element)) {
    const label = el('label', 'bk-check');
    const input = el('input');
    input.type = 'checkbox';
    input.value = o.value;
    input.checked = initial.has(o.value);
    label.append(input, el('span'));
    label.lastChild.append(textObject(o.text, names));
    if (o.description) {
      const d = el('div', 'bk-hint');
      d.append(textObject(o.description, names));
      label.append(d);
    }
    box.append(label);
  }
  return box;
}

function textInput(element, blockIndex) {
  const input = element.multiline ? el('textarea', 'bk-input') : el('input', 'bk-input');
  if (!element.multiline) input.type = 'text';
  else input.rows = 3;
  input.dataset.blockIndex = String(blockIndex);
  input.dataset.kind = 'text';
  if (element.placeholder) input.placeholder = plainOf(element.placeholder);
  if (element.max_length) input.maxLength = element.max_length;
  if (element.initial_value) input.value = element.initial_value;
  return input;
}

function inputBlock(block, i, ctx) {
  const wrap = el('div', 'bk-input-block');
  const label = el('label', 'bk-label', plainOf(block.label));
  if (block.optional) label.append(el('span', 'bk-optional', ' (optional)'));
  wrap.append(label);
  const e = block.element ?? {};
  let control;
  if (e.type === 'plain_text_input') control = textInput(e, i);
  else if (e.type === 'static_select') control = select(e, i, block.dispatch_action ? (value) => ctx.onSelect(i, value) : undefined);
  else if (e.type === 'checkboxes') control = checkboxes(e, i, ctx.names);
  else control = el('div', 'bk-unsupported', `[${e.type} input is not drawn by the sandbox]`);
  control.id = `${ctx.idPrefix ?? 'bk'}-${i}`;
  control.dataset.blockId = block.block_id ?? `b${i}`;
  label.htmlFor = control.id;
  wrap.append(control);
  if (block.hint) {
    const hint = el('div', 'bk-hint');
    hint.append(textObject(block.hint, ctx.names));
    wrap.append(hint);
  }
  const error = ctx.errors?.[block.block_id ?? `b${i}`];
  if (error) wrap.append(el('div', 'bk-error', error));
  return wrap;
}

function section(block, i, ctx) {
  const wrap = el('div', 'bk-section');
  const body = el('div', 'bk-section-body');
  if (block.text) {
    const text = el('div', 'bk-text');
    text.append(textObject(block.text, ctx.names));
    body.append(text);
  }
  if (block.fields?.length) {
    const fields = el('div', 'bk-fields');
    for (const f of block.fields) {
      const field = el('div', 'bk-field');
      field.append(textObject(f, ctx.names));
      fields.append(field);
    }
    body.append(fields);
  }
  wrap.append(body);
  const a = block.accessory;
  if (a?.type === 'button') wrap.append(button(a, ctx, i));
  else if (a?.type === 'static_select') wrap.append(select(a, i, (value) => ctx.onSelect(i, value)));
  else if (a?.type === 'image') wrap.append(el('span', 'bk-hint', `[image: ${a.alt_text ?? ''}]`));
  return wrap;
}

/** The blocks of a message, modal or App Home. */
export function renderBlocks(blocks, ctx) {
  const out = el('div', 'bk-blocks');
  (blocks ?? []).forEach((block, i) => {
    switch (block.type) {
      case 'section':
        out.append(section(block, i, ctx));
        break;
      case 'header':
        out.append(el('div', 'bk-header', plainOf(block.text)));
        break;
      case 'divider':
        out.append(el('hr', 'bk-divider'));
        break;
      case 'context': {
        const c = el('div', 'bk-context');
        for (const e of block.elements ?? []) {
          const part = el('span', 'bk-context-part');
          if (e.type === 'image') part.textContent = `[${e.alt_text ?? 'image'}]`;
          else part.append(textObject(e, ctx.names));
          c.append(part);
        }
        out.append(c);
        break;
      }
      case 'actions': {
        const row = el('div', 'bk-actions');
        (block.elements ?? []).forEach((e, j) => {
          if (e.type === 'button') row.append(button(e, ctx, i, j));
          else if (e.type === 'static_select') row.append(select(e, i, (value) => ctx.onSelect(i, value, j)));
          else if (e.type === 'checkboxes') row.append(checkboxes(e, i, ctx.names));
          else row.append(el('span', 'bk-unsupported', `[${e.type}]`));
        });
        out.append(row);
        break;
      }
      case 'input':
        out.append(inputBlock(block, i, ctx));
        break;
      case 'image':
        out.append(el('div', 'bk-hint', `[image: ${block.alt_text ?? ''}]`));
        break;
      default:
        out.append(el('div', 'bk-unsupported', `[${block.type} block is not drawn by the sandbox]`));
    }
  });
  return out;
}

/** What the person typed and chose in the inputs under `root`, by block index, as the server reads it. */
export function collectValues(root) {
  const values = {};
  for (const node of root.querySelectorAll('[data-block-index][data-kind]')) {
    const i = node.dataset.blockIndex;
    if (node.dataset.kind === 'text') values[i] = node.value;
    else if (node.dataset.kind === 'select') values[i] = node.value || null;
    else values[i] = [...node.querySelectorAll('input:checked')].map((c) => c.value);
  }
  return values;
}

/** A message's text when it has no blocks (Slack shows `text`), as mrkdwn. */
export const fallbackText = (text, names) => mrkdwn(text, names);
