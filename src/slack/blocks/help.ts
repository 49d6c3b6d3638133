/** Usage of `/secret`, as mrkdwn for an ephemeral reply. */
export function renderHelp(): string {
  return [
    '*keyturn* — production secrets under the two-person rule',
    '`/secret request [ENV] [KEY]` — ask for a change to a secret (create, update or delete). Approvers named in the policy see a safe diff (length and fingerprint), never the value. Where the policy has `break_glass`, people on its list may tick "Emergency: apply now" to apply at once; the change is announced and reviewed afterwards.',
    '`/secret list [ENV]` — the secrets, their version, last change and when rotation is due (never values)',
    '`/secret history ENV KEY` — every version of a secret: who asked, who approved, when',
    '`/secret status ID` — where a request stands (`req_…`)',
    '`/secret cancel ID [REASON]` — take back a pending request you made',
    '`/secret audit [ENV] KEY` — who changed and read a secret, and who could (admins and approvers only)',
    '`/secret audit @person` — everything a person requested, approved or read (admins and approvers only)',
    '`/secret help` — this message',
    'For values over 3000 characters, or from a script, use `keyturn request ENV KEY --reason TEXT` with the value on stdin.',
  ].join('\n');
}
