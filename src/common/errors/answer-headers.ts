/** An error that adds headers to the answer it becomes (a 429's Retry-After), whichever shape that answer takes. */
export interface CarriesAnswerHeaders {
  readonly answerHeaders: Readonly<Record<string, string>>;
}

export function answerHeadersOf(exception: unknown): Readonly<Record<string, string>> | undefined {
  const headers = (exception as Partial<CarriesAnswerHeaders> | null)?.answerHeaders;
  return typeof headers === 'object' && headers !== null ? headers : undefined;
}
