import { webhookPayload } from './webhook-notice';

describe('webhookPayload', () => {
  it('is a Slack message with the notice beside it for other receivers', () => {
    const payload = webhookPayload({
      event: 'deploy-approval.requested',
      text: 'ana@example.com asks to deploy myapp',
      fields: { App: 'myapp', Commit: 'abc1234' },
      url: 'https://gateway.example.com/api/v1/deploy-approvals/42',
    });
    expect(payload).toEqual({
      text: 'ana@example.com asks to deploy myapp',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'ana@example.com asks to deploy myapp' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*App*\nmyapp' },
            { type: 'mrkdwn', text: '*Commit*\nabc1234' },
          ],
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: '<https://gateway.example.com/api/v1/deploy-approvals/42|Open in Rack Gateway>' }],
        },
      ],
      event: 'deploy-approval.requested',
      fields: { App: 'myapp', Commit: 'abc1234' },
      url: 'https://gateway.example.com/api/v1/deploy-approvals/42',
    });
  });

  it('has no field or link blocks for a notice without them', () => {
    expect(webhookPayload({ event: 'deploy-approval.expired', text: 'expired' })).toEqual({
      text: 'expired',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'expired' } }],
      event: 'deploy-approval.expired',
      fields: {},
      url: undefined,
    });
  });

  it('escapes what Slack would read as a mention or a link, in the Slack parts only', () => {
    const payload = webhookPayload({ event: 'e', text: 'deploy <!channel> & <http://evil|ok>', fields: { 'Commit <x>': 'fix <!here>' } });
    expect(payload.text).toBe('deploy &lt;!channel&gt; &amp; &lt;http://evil|ok&gt;');
    expect(payload.blocks[1]).toEqual({ type: 'section', fields: [{ type: 'mrkdwn', text: '*Commit &lt;x&gt;*\nfix &lt;!here&gt;' }] });
    expect(payload.fields).toEqual({ 'Commit <x>': 'fix <!here>' });
  });

  it('keeps within Slack block limits: ten fields a section, texts cut short', () => {
    const labels = Array.from({ length: 12 }, (_, index) => `f${index}`);
    const payload = webhookPayload({
      event: 'e',
      text: 't'.repeat(4000),
      fields: Object.fromEntries(labels.map((label) => [label, 'v'.repeat(2500)])),
    });
    // `*label*\n` then the value, cut to 2000 characters with the ellipsis.
    const field = (label: string) => ({ type: 'mrkdwn', text: `*${label}*\n${'v'.repeat(2000 - label.length - 4)}…` });
    expect(payload.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: `${'t'.repeat(2999)}…` } },
      { type: 'section', fields: labels.slice(0, 10).map(field) },
      { type: 'section', fields: labels.slice(10).map(field) },
    ]);
  });

  it('keeps a link target from closing the link early', () => {
    const payload = webhookPayload({ event: 'e', text: 't', url: 'https://gateway.example.com/a|b>c' });
    expect(payload.blocks.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '<https://gateway.example.com/a%7Cb%3Ec|Open in Rack Gateway>' }],
    });
  });
});
