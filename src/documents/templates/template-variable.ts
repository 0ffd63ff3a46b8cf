// What a template asks for: its variables as found at upload, and the data a fill receives.
import { invalidValue } from './template-errors.js';

export type VariableKind = 'text' | 'loop' | 'checkbox' | 'dropdown' | 'radio' | 'option_list';

export interface TemplateVariable {
  name: string;
  /** "loop": a Word {#name}…{/name} section, repeated per item of a list or shown when the value is truthy. */
  kind: VariableKind;
  /** The tags inside a loop, filled from each item. */
  fields?: string[];
  /** The choices of a PDF dropdown, radio group or option list. */
  options?: string[];
}

export interface TemplateInspection {
  variables: TemplateVariable[];
}

export type TemplateData = Record<string, unknown>;

/** A data value as text for a text field or cell; lists and objects only make sense in Word loops. */
export function textValue(name: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    throw invalidValue(name, `"${name}" must be text, a number or a boolean, not a list or an object.`);
  }
  return String(value);
}
