/**
 * An error that, on the gateway's pages, is answered with a page of its own instead of the error page:
 * a form shown again with what was wrong, say. Its status and message still go to the audit trail.
 */
export interface CarriesAnswerPage {
  readonly answerPage: string;
}

export function answerPageOf(exception: unknown): string | undefined {
  const page = (exception as Partial<CarriesAnswerPage> | null)?.answerPage;
  return typeof page === 'string' ? page : undefined;
}
