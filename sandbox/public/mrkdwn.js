// Slack's mrkdwn drawn as DOM nodes. Text only ever reaches the page through text nodes (never innerHTML):
// entities (&lt; &gt; &amp;) are decoded at the very end, so escaped text shows as typed and never as markup.

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&amp;': '&' };
export const decode = (text) => text.replace(/&(lt|gt|amp);/g, (m) => ENTITIES[m]);

/** Text with line breaks, decoded. */
function plain(parent, text) {
  decode(text)
    .split('\n')
    .forEach((line, i) => {
      if (i > 0) parent.append(document.createElement('br'));
      if (line) parent.append(document.createTextNode(line));
    });
}

const el = (tag, className) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
};

// *bold*, _italic_, ~strike~: the marker must open at a word start and close at a word end, as Slack reads it.
const STYLES = [
  { marker: '*', tag: 'strong' },
  { marker: '_', tag: 'em' },
  { marker: '~', tag: 's' },
];

function styled(parent, text) {
  let best;
  for (const s of STYLES) {
    const m = s.marker === '*' ? /(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/.exec(text) : s.marker === '_' ? /(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/.exec(text) : /(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/.exec(text);
    if (m && (!best || m.index + m[1].length < best.start)) best = { start: m.index + m[1].length, end: m.index + m[0].length, inner: m[2], tag: s.tag };
  }
  if (!best) return plain(parent, text);
  plain(parent, text.slice(0, best.start));
  const node = el(best.tag);
  styled(node, best.inner);
  parent.append(node);
  styled(parent, text.slice(best.end));
}

const SAFE_LINK = /^(https?:|mailto:)/i;

/** One `<…>` token: a link, a mention of a person, group or channel, or a special such as <!here>. */
function token(parent, inside, names) {
  const [target, label] = (() => {
    const bar = inside.indexOf('|');
    return bar < 0 ? [inside, undefined] : [inside.slice(0, bar), inside.slice(bar + 1)];
  })();
  const mention = (text, kind) => {
    const node = el('span', `mention ${kind}`);
    node.textContent = decode(text);
    parent.append(node);
  };
  if (target.startsWith('@')) return mention(`@${names.users[target.slice(1)] ?? label ?? target.slice(1)}`, 'user');
  if (target.startsWith('#')) return mention(`#${names.channels[target.slice(1)] ?? label ?? target.slice(1)}`, 'channel');
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    return mention(names.groups[id] ? `@${names.groups[id]}` : (label ?? `@${id}`), 'group');
  }
  if (target.startsWith('!date^')) return plain(parent, label ?? '');
  if (target.startsWith('!')) return mention(`@${target.slice(1)}`, 'special');
  const url = decode(target);
  if (!SAFE_LINK.test(url)) return plain(parent, label ?? target);
  const a = el('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = decode(label ?? target);
  parent.append(a);
}

/** Links and mentions, then styles in what is between them. */
function inline(parent, text, names) {
  const re = /<([^<>\n]+)>/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    styled(parent, text.slice(last, m.index));
    token(parent, m[1], names);
    last = m.index + m[0].length;
  }
  styled(parent, text.slice(last));
}

/** Inline code (drawn as is), then links, mentions and styles in what is between. */
function spans(parent, text, names) {
  const parts = text.split(/`/);
  parts.forEach((span, j) => {
    if (j % 2 === 1 && j < parts.length - 1) {
      const code = el('code');
      code.textContent = decode(span);
      parent.append(code);
    } else {
      inline(parent, j % 2 === 1 ? '`' + span : span, names);
    }
  });
}

/** Lines that start with ">" are a quote; the rest is text. */
function quotesAndText(parent, text, names) {
  const groups = [];
  for (const line of text.split('\n')) {
    const quoted = line.startsWith('>');
    const last = groups.at(-1);
    if (last && last.quoted === quoted) last.lines.push(quoted ? line.replace(/^> ?/, '') : line);
    else groups.push({ quoted, lines: [quoted ? line.replace(/^> ?/, '') : line] });
  }
  for (const g of groups) {
    if (!g.quoted) {
      spans(parent, g.lines.join('\n'), names);
      continue;
    }
    const quote = el('blockquote');
    spans(quote, g.lines.join('\n'), names);
    parent.append(quote);
  }
}

/** mrkdwn → a fragment: ```blocks``` drawn as is, then quotes, `code`, links, mentions and styles. */
export function mrkdwn(text, names) {
  const out = document.createDocumentFragment();
  const parts = String(text ?? '').split(/```/);
  parts.forEach((part, i) => {
    // Odd parts are inside a ``` block (an unclosed one is taken as text).
    if (i % 2 === 1 && i < parts.length - 1) {
      const pre = el('pre');
      pre.textContent = decode(part.replace(/^\n/, ''));
      out.append(pre);
      return;
    }
    quotesAndText(out, i % 2 === 1 ? '```' + part : part, names);
  });
  return out;
}

/** A text object: mrkdwn, or plain_text shown exactly as sent. */
export function textObject(obj, names) {
  if (!obj) return document.createDocumentFragment();
  if (obj.type === 'mrkdwn') return mrkdwn(obj.text, names);
  const frag = document.createDocumentFragment();
  String(obj.text ?? '')
    .split('\n')
    .forEach((line, i) => {
      if (i > 0) frag.append(document.createElement('br'));
      frag.append(document.createTextNode(line));
    });
  return frag;
}
