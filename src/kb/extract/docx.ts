// DOCX with mammoth: it maps Word paragraph styles to HTML (Heading 1 → <h1>), which is exactly the structure
// the chunker needs; plain text extraction would lose it. The HTML then goes through the same renderer as
// uploaded HTML. Images are dropped up front so mammoth does not base64-encode them for nothing.
import mammoth from 'mammoth';
import { corruptFile } from './extract-errors.js';
import { htmlToText } from './html.js';
import { structuredPage, titleFromHeadings } from './pages.js';
import type { ExtractedDocument } from './types.js';

const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];
const NO_IMAGES = mammoth.images.imgElement(async () => ({ src: '' }));

export async function extractDocx(buffer: Buffer, fileName: string): Promise<Omit<ExtractedDocument, 'fileType'>> {
  let html: string;
  try {
    ({ value: html } = await mammoth.convertToHtml(
      { buffer },
      { styleMap: STYLE_MAP, convertImage: NO_IMAGES, externalFileAccess: false },
    ));
  } catch (err) {
    throw corruptFile(fileName, 'docx', err);
  }
  const page = structuredPage(htmlToText(html));
  const title = titleFromHeadings([page]);
  return { pages: [page], totalPages: null, ...(title ? { title } : {}) };
}
