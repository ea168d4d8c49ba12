import PDFDocument from 'pdfkit';
import type { Letter, Sender } from './letter.js';
import { fillTemplate } from './template.js';

/** Margins and text width on A4 (points), and the window of a French DL envelope (recipient block, NF EN ISO 269). */
const MARGIN = 56;
const TEXT_WIDTH = 595.28 - 2 * MARGIN;
const WINDOW = { x: 312, y: 150, width: 230 };

/**
 * The recall letters as one PDF, a page (or more) per patient: the sender's block, the patient's
 * behind the envelope window, the place and date, the pôle's text filled, the signature.
 * Helvetica's WinAnsi covers French (accents, œ, ’, « »); a character beyond it is dropped by pdfkit.
 */
export function lettersPdf(letters: Letter[], sender: Sender, template: string, title: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: MARGIN, autoFirstPage: false, info: { Title: title, Author: sender.structure || sender.name } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  for (const letter of letters) {
    doc.addPage();
    doc
      .font('Helvetica-Bold')
      .fontSize(11)
      .text(sender.structure || sender.name, MARGIN, MARGIN);
    doc.font('Helvetica').fontSize(10);
    for (const line of sender.address) doc.text(line);
    if (sender.phone) doc.text(`Tél. ${sender.phone}`);
    doc.font('Helvetica').fontSize(11);
    doc.text(letter.recipient.join('\n'), WINDOW.x, WINDOW.y, { width: WINDOW.width });
    doc.text(`${sender.city ? `${sender.city}, le` : 'Le'} ${letter.fields.date}`, WINDOW.x, WINDOW.y + 100, { width: WINDOW.width });
    doc.text('', MARGIN, 300);
    const body = fillTemplate(template, letter.fields).trim();
    for (const paragraph of body.split(/\n\s*\n/)) {
      const subject = paragraph.startsWith('Objet');
      doc.font(subject ? 'Helvetica-Bold' : 'Helvetica').text(paragraph.trim(), { width: TEXT_WIDTH, align: subject ? 'left' : 'justify' });
      doc.moveDown();
    }
    doc.moveDown();
    doc.font('Helvetica').text([sender.name, sender.profession].filter(Boolean).join('\n'), { align: 'right' });
  }
  doc.end();
  return done;
}
