// Spreadsheets and CSV share one rendering: a row per line, cells joined by " | ". Embedders and LLMs read
// this better than aligned columns, and a row never wraps so a chunk boundary never splits one.

export function rowsToLines(rows: string[][]): string[] {
  return rows
    .map((cells) => {
      const trimmed = cells.map((c) => c.replace(/\s+/g, ' ').trim());
      while (trimmed.length && !trimmed[trimmed.length - 1]) trimmed.pop();
      return trimmed.join(' | ');
    })
    .filter(Boolean);
}
