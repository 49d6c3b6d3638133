/** Usage of `/secret`, as mrkdwn for an ephemeral reply. */
export function renderHelp(): string {
  return [
    '*keyturn* — production secrets under the two-person rule',
    '`/secret request [ENV] [KEY]` — ask for a change to a secret (create, update or delete). Approvers named in the policy see a safe diff (length and fingerprint), never the value. Where the policy has `break_glass`, people on its list may tick "Emergency: apply now" to apply at once; the change is announced and reviewed afterwards.',
    '`/secret access [ENV] [KEY or glob]` — ask to read secrets for a while (default 1h, up to the environment\'s max_duration). Approvers decide; the grant ends by itself.',
    '`/secret list [ENV]` — the secrets, their version, last change and when rotation is due (never values)',
    '`/secret history ENV KEY` — every version of a secret: who asked, who approved, when; *Roll back* asks to restore an earlier one',
    '`/secret status ID` — where a request stands (`req_…`): approvals so far, and which step it waits on when the policy has steps',
    '`/secret cancel ID [REASON]` — take back a pending request you made',
    '`/secret audit [ENV] KEY` — who changed and read a secret, and who could (admins and approvers only)',
    '`/secret audit @person` — everything a person requested, approved or read (admins and approvers only)',
    '`/secret login CODE` — confirm a `keyturn login` on the CLI as you (the CLI prints the code); the token it gets reads only what your live access grants allow',
    '`/secret help` — this message',
    'For values over 3000 characters, or from a script, use `keyturn request ENV KEY --reason TEXT` with the value on stdin.',
  ].join('\n');
}
