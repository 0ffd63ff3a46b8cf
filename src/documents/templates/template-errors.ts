// The errors a template upload or fill can end in, with stable codes: callers map them to HTTP and tool
// results, users read the sentence, logs keep the library's own error as `cause`.
import { AppError, unprocessable } from '../../errors.js';

/** The file is not a usable template of the declared kind (damaged, encrypted, wrong format, no fields). */
export const invalidTemplate = (message: string, cause?: unknown) =>
  new AppError('invalid_template', message, 422, { cause });

export function assertNothingMissing(missing: string[]): void {
  if (missing.length === 0) return;
  const names = missing.map((name) => `"${name}"`).join(', ');
  throw unprocessable('template_variable_missing', `The data has no value for ${names}.`, { missing });
}

/** A value of the wrong shape for its variable (an object for a text field, an unknown dropdown option). */
export const invalidValue = (variable: string, message: string) =>
  unprocessable('template_value_invalid', message, { variable });
