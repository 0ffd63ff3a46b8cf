// A small company knowledge base in five formats, generated in code, and questions worded differently from
// the passages that answer them. Each answer lives in exactly one passage; several passages share words
// with other questions (days, leave, office, report), so word overlap alone is not enough.
import { Document, HeadingLevel, Packer, Paragraph } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

export const TRAVEL_PAGES = [
  'Flights are booked through the company travel portal at least 14 days before departure. Economy class is required for flights shorter than six hours.',
  'Hotel stays are reimbursed up to 180 euros per night in capital cities and 120 euros per night elsewhere. Keep the itemised invoice from the hotel.',
  'Expense reports are submitted within 30 days after the trip ends, with every receipt attached, in the finance system. Reports filed later are not reimbursed.',
  'Meals while travelling are covered by a daily allowance of 45 euros. Alcohol is never reimbursed.',
];

export async function travelPolicyPdf(): Promise<Buffer> {
  const pdf = await PDFDocument.create();
  pdf.setTitle('Travel and Expenses Policy');
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const text of TRAVEL_PAGES) {
    const page = pdf.addPage([595, 842]);
    // pdf-lib draws no wrapped text: one line per sentence.
    text.split(/(?<=\.) /).forEach((line, i) => page.drawText(line, { x: 50, y: 780 - i * 18, size: 10, font }));
  }
  return Buffer.from(await pdf.save());
}

export const HANDBOOK_MD = `# Employee Handbook

## Annual leave

Full-time employees receive 25 days of paid annual leave per calendar year. Up to five unused days can be carried over into the next year and must be taken by the end of March.

## Parental leave

Parents are entitled to 16 weeks of fully paid parental leave, to be taken within the first year after a birth or an adoption.

## Working from home

After the probation period, staff may work remotely from home up to three days per week, with their manager's agreement.

## Sickness

Report a sickness to your manager before 10:00 on the first day of absence. A medical certificate from a doctor is required from the fourth day.
`;

export const SECURITY = {
  passwords: 'Passwords must be at least 14 characters long. They are changed only when a compromise is suspected. Store them in the company password manager.',
  laptops: 'Laptops use full-disk encryption. A lost or stolen laptop must be reported to the service desk within one hour so that it can be wiped remotely.',
  phishing: 'Forward suspicious emails to phishing@example.test and never click the links they contain.',
};

export async function securityGuideDocx(): Promise<Buffer> {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'IT Security Guide', heading: HeadingLevel.TITLE }),
          new Paragraph({ text: 'Passwords', heading: HeadingLevel.HEADING_1 }),
          new Paragraph(SECURITY.passwords),
          new Paragraph({ text: 'Laptops', heading: HeadingLevel.HEADING_1 }),
          new Paragraph(SECURITY.laptops),
          new Paragraph({ text: 'Phishing', heading: HeadingLevel.HEADING_1 }),
          new Paragraph(SECURITY.phishing),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

export const OFFICE_HTML = `<!doctype html><html><head><title>Office information</title></head><body>
<h1>Office information</h1>
<h2>Opening hours and visitors</h2><p>The Berlin office is open from 8:00 to 19:00 on weekdays. Visitors sign in at the reception desk on the ground floor and receive a badge.</p>
<h2>Parking</h2><p>The garage below the building has 40 parking spaces for employees, reserved through the facilities app.</p>
</body></html>`;

export const OFFICES_CSV = 'Office,City,Manager,Phone\nHeadquarters,Berlin,Anna Schmidt,+49 30 1234\nSouth,Munich,Jonas Weber,+49 89 5678\nWest,Cologne,Lea Fischer,+49 221 9012\n';

export interface CorpusFile {
  buffer: Buffer;
  fileName: string;
  title: string;
  tags: string[];
}

export async function corpusFiles(): Promise<CorpusFile[]> {
  return [
    { buffer: await travelPolicyPdf(), fileName: 'travel-policy.pdf', title: 'Travel and Expenses Policy', tags: ['finance', 'policy'] },
    { buffer: Buffer.from(HANDBOOK_MD), fileName: 'handbook.md', title: 'Employee Handbook', tags: ['hr', 'policy'] },
    { buffer: await securityGuideDocx(), fileName: 'security.docx', title: 'IT Security Guide', tags: ['it'] },
    { buffer: Buffer.from(OFFICE_HTML), fileName: 'offices.html', title: 'Office information', tags: ['facilities'] },
    { buffer: Buffer.from(OFFICES_CSV), fileName: 'offices.csv', title: 'Office directory', tags: ['facilities'] },
  ];
}

/** A question, and a phrase found only in the passage that answers it (plus, for the PDF, its page). */
export const QUESTIONS: { question: string; expect: string; title: string; page?: number }[] = [
  { question: 'How many paid holiday days do employees get per year?', expect: '25 days of paid annual leave', title: 'Employee Handbook' },
  { question: 'What is the most the company pays for a hotel night?', expect: 'up to 180 euros per night', title: 'Travel and Expenses Policy', page: 2 },
  { question: 'How long can new parents stay at home after a baby is born?', expect: '16 weeks of fully paid parental leave', title: 'Employee Handbook' },
  { question: 'By when do I have to hand in my expense report and receipts?', expect: 'within 30 days after the trip', title: 'Travel and Expenses Policy', page: 3 },
  { question: 'My laptop was stolen, what should I do?', expect: 'reported to the service desk within one hour', title: 'IT Security Guide' },
  { question: 'What is the minimum password length?', expect: 'at least 14 characters', title: 'IT Security Guide' },
  { question: 'Am I allowed to work from home?', expect: 'work remotely from home up to three days', title: 'Employee Handbook' },
  { question: 'Who is the manager of the office in Munich?', expect: 'Jonas Weber', title: 'Office directory' },
  { question: 'When do I need a doctor’s note if I am ill?', expect: 'medical certificate from a doctor', title: 'Employee Handbook' },
  { question: 'Where should visitors go when they arrive at the office?', expect: 'Visitors sign in at the reception desk', title: 'Office information' },
];
