/** RFC 9457 problem details, the error shape of the gateway's own API. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** Stable, machine-readable error code. */
  readonly code: string;
  readonly errors?: readonly string[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The reason phrase of a status, as problem details and error pages title it. */
export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error';
}

export function problemDetails(status: number, code: string, detail: string, errors?: readonly string[]): ProblemDetails {
  return { type: 'about:blank', title: statusTitle(status), status, detail, code, ...(errors ? { errors } : {}) };
}
