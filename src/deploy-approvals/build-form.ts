import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { BodyTooLargeError, readBoundedBody } from '../common/bounded-body';

/** A build form names an object and a few options; anything larger is not one. */
const MAX_BUILD_FORM_BYTES = 64 * 1024;
const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';
/**
 * The rack reads a build's options where Go's FormValue finds them, and falls back to a header of the
 * same name: under an approval these must come from the form alone, once each.
 */
const CHECKED_FIELDS = ['url', 'git-sha', 'external'] as const;

export interface ApprovedBuildForm {
  /** The object the build is made from: `object://<app>/<key>`'s key. */
  readonly objectKey: string;
  readonly gitSha: string | null;
  /** The form as the rack will read it: re-encoded, so it parses one way only. */
  readonly body: Buffer;
}

function invalid(message: string): BadRequestException {
  return new BadRequestException({ code: 'invalid_build_form', message });
}

/**
 * Reads the form of a build made under an approval, exactly as the rack will: one urlencoded body,
 * no query, no options in headers, `url` an object of this app, no external build (its image would be
 * pushed outside the approved upload).
 */
export async function readApprovedBuildForm(request: IncomingMessage, query: string | null, app: string): Promise<ApprovedBuildForm> {
  if (query !== null && query !== '') throw invalid('a build under a deploy approval takes its fields from the form body, not the query');
  for (const field of CHECKED_FIELDS) {
    if (headerNamed(request.headers, field))
      throw invalid(`a build under a deploy approval takes ${field} from the form body, not a header`);
  }
  if (mediaType(request.headers['content-type']) !== FORM_MEDIA_TYPE) throw invalid(`a build is made from a ${FORM_MEDIA_TYPE} form`);
  const raw = await readBoundedBody(request, MAX_BUILD_FORM_BYTES).catch((error: Error) => {
    throw error instanceof BodyTooLargeError
      ? new PayloadTooLargeException({ code: 'build_form_too_large', message: `a build form may not exceed ${MAX_BUILD_FORM_BYTES} bytes` })
      : error;
  });
  const form = new URLSearchParams(raw.toString('utf8'));
  for (const field of CHECKED_FIELDS) {
    if (form.getAll(field).length > 1) throw invalid(`the build form names ${field} more than once`);
  }
  const external = form.get('external');
  if (external !== null && external !== '' && external !== 'false')
    throw invalid('an external build cannot be made under a deploy approval');
  const url = form.get('url') ?? '';
  const prefix = `object://${app}/`;
  if (!url.startsWith(prefix) || url.length === prefix.length)
    throw invalid(`the build's url must be an object of ${app} (object://${app}/<key>)`);
  const gitSha = form.get('git-sha');
  return {
    objectKey: url.slice(prefix.length),
    gitSha: gitSha === null || gitSha === '' ? null : gitSha,
    body: Buffer.from(form.toString()),
  };
}

function headerNamed(headers: IncomingHttpHeaders, name: string): boolean {
  return headers[name] !== undefined;
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0].trim().toLowerCase();
}
