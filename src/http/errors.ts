/** Every error Savoir reports to a client has one of these codes; the code decides the HTTP status. */
export const errorStatusByCode = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  mfa_enrolment_required: 403,
  mfa_required: 403,
  step_up_required: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatusByCode;

const titleByCode: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  validation_failed: 'Invalid request',
  unauthenticated: 'Authentication required',
  forbidden: 'Forbidden',
  mfa_enrolment_required: 'Second factor enrolment required',
  mfa_required: 'Second factor required',
  step_up_required: 'Recent second factor required',
  csrf_failed: 'Missing or invalid CSRF token',
  not_found: 'Not found',
  method_not_allowed: 'Method not allowed',
  conflict: 'Conflict',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};

export interface FieldError {
  /** Where the fault is: `body.name`, `query.limit`, `params.jobId`. */
  field: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = errorStatusByCode[code];
  }
}

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

export function toProblem(code: ErrorCode, detail: string, extra: { instance?: string; requestId?: string; errors?: FieldError[] } = {}): ProblemDetails {
  return {
    type: `https://savoir.dev/problems/${code.replaceAll('_', '-')}`,
    title: titleByCode[code],
    status: errorStatusByCode[code],
    detail,
    code,
    ...extra,
  };
}
