/** Usage of `/secret`, as mrkdwn for an ephemeral reply. */
export function renderHelp(): string {
  return [
    '*keyturn* — production secrets under the two-person rule',
    '`/secret request [ENV] [KEY]` — ask for a change to a secret (create, update or delete). Approvers named in the policy see a safe diff (length and fingerprint), never the value.',
    '`/secret help` — this message',
    'For values over 3000 characters, or from a script, use `keyturn request ENV KEY --reason TEXT` with the value on stdin.',
  ].join('\n');
}
