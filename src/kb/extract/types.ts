// The shape every extractor returns: text per page (page numbers kept where the format has pages) plus the
// headings found in it, so the chunker can split by structure and cite a page.

export type KbFileType = 'pdf' | 'docx' | 'xlsx' | 'csv' | 'markdown' | 'html' | 'text';

export interface ExtractedHeading {
  /** 1 = top level (h1 / `#`). */
  level: number;
  text: string;
  /** Character offset of the heading's line in `ExtractedPage.text`. */
  offset: number;
}

export interface ExtractedPage {
  /** 1-based page number for paginated formats (PDF); null where the format has no pages. */
  pageNumber: number | null;
  text: string;
  /** Headings in order of appearance; absent when the format carries no structure (PDF, plain text, CSV). */
  headings?: ExtractedHeading[];
}

export interface ExtractedDocument {
  fileType: KbFileType;
  pages: ExtractedPage[];
  /** Page count of a paginated document; null otherwise. */
  totalPages: number | null;
  title?: string;
}

export interface ExtractInput {
  buffer: Buffer;
  fileName: string;
  mimeType?: string;
}
