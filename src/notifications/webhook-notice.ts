/** What a module announces: one event, for people (Slack) and for programs (any receiver). */
export interface WebhookNotice {
  /** e.g. 'deploy-approval.requested' */
  readonly event: string;
  /** One line a person reads in Slack. */
  readonly text: string;
  /** Labelled facts (app, commit, who…), shown as Slack block fields. */
  readonly fields?: Readonly<Record<string, string>>;
  /** A link to the thing, e.g. the request in the admin API. */
  readonly url?: string;
}

/** Slack's limits on a block (longer is refused with 400, which no retry would cure). */
const SECTION_TEXT_LIMIT = 3000;
const FIELD_TEXT_LIMIT = 2000;
const FIELDS_PER_SECTION = 10;

type TextObject = { readonly type: 'mrkdwn'; readonly text: string };
type Block =
  | { readonly type: 'section'; readonly text: TextObject }
  | { readonly type: 'section'; readonly fields: readonly TextObject[] }
  | { readonly type: 'context'; readonly elements: readonly TextObject[] };

/**
 * The body POSTed to the webhook: Slack's incoming-webhook message (`text`, `blocks`), and the notice's
 * own `event`, `fields` and `url` as they are, for receivers that are not Slack.
 */
export interface WebhookPayload {
  readonly text: string;
  readonly blocks: readonly Block[];
  readonly event: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly url?: string;
}

export function webhookPayload(notice: WebhookNotice): WebhookPayload {
  const text = escapeMrkdwn(notice.text);
  const fields = Object.entries(notice.fields ?? {}).map(([label, value]) =>
    mrkdwn(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, FIELD_TEXT_LIMIT),
  );
  const blocks: Block[] = [{ type: 'section', text: mrkdwn(text, SECTION_TEXT_LIMIT) }];
  for (let start = 0; start < fields.length; start += FIELDS_PER_SECTION) {
    blocks.push({ type: 'section', fields: fields.slice(start, start + FIELDS_PER_SECTION) });
  }
  if (notice.url) blocks.push({ type: 'context', elements: [mrkdwn(`<${slackLinkTarget(notice.url)}|Open in Rack Gateway>`)] });
  return { text, blocks, event: notice.event, fields: notice.fields ?? {}, url: notice.url };
}

function mrkdwn(text: string, limit = SECTION_TEXT_LIMIT): TextObject {
  return { type: 'mrkdwn', text: text.length > limit ? `${text.slice(0, limit - 1)}…` : text };
}

/**
 * Slack reads `<…>` as links and mentions: an app name or commit message holding `<!channel>` would
 * page everyone. Its three control characters are escaped as Slack documents.
 */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A link's target may not hold `|` or `>`, which end it in Slack's `<url|label>`. */
function slackLinkTarget(url: string): string {
  return url.replace(/[|<>]/g, (character) => encodeURIComponent(character));
}
