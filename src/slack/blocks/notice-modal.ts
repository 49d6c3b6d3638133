/**
 * The answer to a modal submission that replaces the modal with one sentence: what happened, and that
 * nothing was done. Plain text, so nothing in it is read as mrkdwn.
 */
export const renderNoticeModalUpdate = (text: string) => ({
  response_action: 'update' as const,
  view: {
    type: 'modal' as const,
    title: { type: 'plain_text' as const, text: 'keyturn' },
    close: { type: 'plain_text' as const, text: 'Close' },
    blocks: [{ type: 'section' as const, text: { type: 'plain_text' as const, text } }],
  },
});
