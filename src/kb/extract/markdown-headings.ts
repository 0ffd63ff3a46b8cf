// Headings of Markdown-shaped text. Markdown files are kept as written, and HTML/DOCX are rendered with
// `#` headings too, so one scanner gives every structured format its outline. Fenced code and YAML front
// matter are skipped so a `# comment` in a shell snippet is not mistaken for a heading.
import type { ExtractedHeading } from './types.js';

const ATX = /^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const NOT_PARAGRAPH = /^ {0,3}([>*+|-]|\d+[.)]|#)/;

export function findMarkdownHeadings(text: string): ExtractedHeading[] {
  const headings: ExtractedHeading[] = [];
  const lines = text.split('\n');
  const frontMatterEnd = lines[0] === '---' ? lines.indexOf('---', 1) : -1;
  let offset = -1;
  let fence: string | null = null;
  let paragraphLine: { text: string; offset: number } | null = null; // candidate for a setext heading

  for (const [i, line] of lines.entries()) {
    offset += i === 0 ? 1 : lines[i - 1]!.length + 1;
    const candidate = paragraphLine;
    paragraphLine = null;
    if (i <= frontMatterEnd) continue;

    const fenceMatch = FENCE.exec(line);
    if (fence) {
      if (fenceMatch?.[1]!.startsWith(fence)) fence = null;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1]!;
      continue;
    }
    const atx = ATX.exec(line);
    const underline = SETEXT_UNDERLINE.exec(line);
    if (atx) headings.push({ level: atx[1]!.length, text: atx[2]!.trim(), offset });
    else if (underline && candidate) {
      headings.push({ level: underline[1]!.startsWith('=') ? 1 : 2, text: candidate.text.trim(), offset: candidate.offset });
    } else if (line.trim() && !NOT_PARAGRAPH.test(line)) paragraphLine = { text: line, offset };
  }
  return headings;
}
