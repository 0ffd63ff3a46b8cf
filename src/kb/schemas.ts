// Field schemas shared by the knowledge-base routes and tools, so both validate input the same way.
import { z } from 'zod';

export const KB_STATUSES = ['uploading', 'processing', 'indexed', 'failed'] as const;
export type KbStatus = (typeof KB_STATUSES)[number];

export const MAX_TAGS = 20;

/** A tag: trimmed, inner whitespace collapsed, lower-cased (filters match whatever case was typed). */
export const TagSchema = z
  .string()
  .transform((s) => s.trim().replace(/\s+/g, ' ').toLowerCase())
  .pipe(z.string().min(1, 'a tag cannot be empty').max(50, 'a tag has at most 50 characters'));

export const TagsSchema = z
  .array(TagSchema)
  .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .transform((tags) => [...new Set(tags)]);

export const CategorySchema = z.string().trim().min(1).max(100);
export const TitleSchema = z.string().trim().min(1).max(255);

export const SearchQuerySchema = z.string().trim().min(1, 'the query is empty').max(2000);
export const SearchKSchema = z.coerce.number().int().min(1).max(50);
