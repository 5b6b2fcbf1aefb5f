/**
 * The layout of the report's PDF over pdfkit (its standard fonts: nothing to download, no
 * browser): an A4 document collected into bytes, and the writer the sections draw with, which
 * breaks pages before a block that would not fit and passes all text through `latin`.
 */
import PDFDocument from 'pdfkit';
import { latin } from './pdf-text.js';

/** Page margin on every side, and the footer's band above the bottom one (points). */
export const MARGIN = 50;
const FOOTER = 40;
// The palette: text, secondary text, rules, headings and bars, failures, passes, shaded rows.
export const INK = '#1a1a1a';
export const MUTED = '#666666';
export const RULE = '#c8c8c8';
export const ACCENT = '#1f4e79';
export const FAIL = '#b00020';
export const PASS = '#1b7f3b';
export const SHADE = '#f2f4f7';

type Doc = PDFKit.PDFDocument;

export interface Column {
  readonly header: string;
  readonly width: number;
  readonly align?: 'left' | 'right' | 'center';
  readonly mono?: boolean;
}

export interface Cell {
  readonly text: string;
  readonly color?: string;
  readonly bold?: boolean;
}

/** An A4 document with `info`, drawn by `draw`; resolves with the PDF bytes. */
export function renderPdf(
  info: PDFKit.DocumentInfo,
  draw: (pdf: PdfWriter) => void,
): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    bufferPages: true,
    info,
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
  });
  draw(new PdfWriter(doc));
  doc.end();
  return done;
}

export class PdfWriter {
  readonly width: number;
  constructor(readonly doc: Doc) {
    this.width = doc.page.width - 2 * MARGIN;
  }

  private get bottom(): number {
    return this.doc.page.height - MARGIN - FOOTER;
  }

  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) {
      this.doc.addPage();
      this.doc.x = MARGIN;
      this.doc.y = MARGIN;
    }
  }

  space(points: number): void {
    this.doc.y += points;
  }

  newSection(title: string): void {
    this.doc.addPage();
    this.doc.x = MARGIN;
    this.doc.y = MARGIN;
    this.doc
      .font('Helvetica-Bold')
      .fontSize(17)
      .fillColor(ACCENT)
      .text(latin(title), { width: this.width });
    const y = this.doc.y + 2;
    this.doc
      .save()
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + this.width, y)
      .lineWidth(1)
      .strokeColor(ACCENT)
      .stroke()
      .restore();
    this.doc.y = y + 10;
    this.doc.fillColor(INK);
  }

  heading2(title: string): void {
    this.ensure(40);
    this.doc
      .font('Helvetica-Bold')
      .fontSize(12)
      .fillColor(ACCENT)
      .text(latin(title), MARGIN, this.doc.y, { width: this.width });
    this.doc.moveDown(0.3).fillColor(INK);
  }

  heading3(title: string): void {
    this.ensure(50);
    this.doc.moveDown(0.5);
    this.doc
      .font('Helvetica-Bold')
      .fontSize(10.5)
      .fillColor(INK)
      .text(latin(title), MARGIN, this.doc.y, { width: this.width });
    this.doc.moveDown(0.25);
  }

  paragraph(text: string, color = INK): void {
    if (text === '') return;
    this.doc.font('Helvetica').fontSize(9.5);
    this.ensure(this.doc.heightOfString(latin(text), { width: this.width }) + 4);
    this.doc
      .fillColor(color)
      .text(latin(text), MARGIN, this.doc.y, { width: this.width, lineGap: 1.5 });
    this.doc.moveDown(0.4).fillColor(INK);
  }

  bullet(text: string): void {
    this.doc.font('Helvetica').fontSize(9.5);
    this.ensure(this.doc.heightOfString(latin(text), { width: this.width - 14 }) + 2);
    const y = this.doc.y;
    this.doc.fillColor(INK).text('•', MARGIN + 2, y, { lineBreak: false });
    this.doc.text(latin(text), MARGIN + 14, y, { width: this.width - 14, lineGap: 1 });
    this.doc.moveDown(0.15);
  }

  code(text: string): void {
    this.doc.font('Courier').fontSize(8.5);
    const h = this.doc.heightOfString(text, { width: this.width - 16 }) + 10;
    this.ensure(h + 4);
    const y = this.doc.y;
    this.doc.rect(MARGIN, y, this.width, h).fill(SHADE);
    this.doc.fillColor(INK).text(text, MARGIN + 8, y + 5, { width: this.width - 16 });
    this.doc.y = y + h + 6;
  }

  quote(text: string, by: string): void {
    this.doc.font('Helvetica-Oblique').fontSize(9.5);
    const h = this.doc.heightOfString(`“${latin(text)}”`, { width: this.width - 24 }) + 18;
    this.ensure(h + 6);
    const y = this.doc.y + 2;
    this.doc.rect(MARGIN, y, 3, h).fill(ACCENT);
    this.doc
      .fillColor(INK)
      .text(`“${latin(text)}”`, MARGIN + 14, y + 2, { width: this.width - 24, lineGap: 1.5 });
    this.doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor(MUTED)
      .text(`— ${latin(by)}`, MARGIN + 14, this.doc.y + 2, { width: this.width - 24 });
    this.doc.y = Math.max(this.doc.y, y + h) + 6;
    this.doc.fillColor(INK);
  }

  keyValues(rows: [string, string][], mono = false): void {
    const keyWidth = 150;
    for (const [key, value] of rows) {
      this.doc.font(mono ? 'Courier' : 'Helvetica').fontSize(mono ? 8.5 : 9.5);
      const valueHeight = this.doc.heightOfString(latin(value), { width: this.width - keyWidth });
      this.doc.font('Helvetica-Bold').fontSize(9);
      const h = Math.max(valueHeight, this.doc.heightOfString(latin(key), { width: keyWidth - 8 }));
      this.ensure(h + 3);
      const y = this.doc.y;
      this.doc
        .font('Helvetica-Bold')
        .fontSize(9)
        .fillColor(MUTED)
        .text(latin(key), MARGIN, y, { width: keyWidth - 8 });
      this.doc
        .font(mono ? 'Courier' : 'Helvetica')
        .fontSize(mono ? 8.5 : 9.5)
        .fillColor(INK)
        .text(latin(value), MARGIN + keyWidth, y, { width: this.width - keyWidth });
      this.doc.y = Math.max(this.doc.y, y + h) + 3;
    }
  }

  table(columns: readonly Column[], rows: readonly Cell[][], fontSize = 8.5): void {
    const doc = this.doc;
    const pad = 3;
    const header = () => {
      const h = 16;
      this.ensure(h + 14);
      const y = doc.y;
      doc.rect(MARGIN, y, this.width, h).fill(ACCENT);
      let x = MARGIN;
      doc.font('Helvetica-Bold').fontSize(fontSize).fillColor('#ffffff');
      for (const c of columns) {
        doc.text(latin(c.header), x + pad, y + 4, {
          width: c.width - 2 * pad,
          align: c.align ?? 'left',
          lineBreak: false,
          ellipsis: true,
        });
        x += c.width;
      }
      doc.y = y + h;
    };
    header();
    if (rows.length === 0) {
      doc
        .font('Helvetica-Oblique')
        .fontSize(fontSize)
        .fillColor(MUTED)
        .text('none', MARGIN + pad, doc.y + 3);
      doc.moveDown(0.5).fillColor(INK);
      return;
    }
    rows.forEach((row, i) => {
      const heights = row.map((cell, j) => {
        const c = columns[j] as Column;
        doc
          .font(c.mono ? 'Courier' : cell.bold ? 'Helvetica-Bold' : 'Helvetica')
          .fontSize(c.mono ? fontSize - 0.5 : fontSize);
        return doc.heightOfString(latin(cell.text), { width: c.width - 2 * pad });
      });
      const h = Math.max(...heights) + 2 * pad;
      if (doc.y + h > this.bottom) {
        doc.addPage();
        doc.y = MARGIN;
        header();
      }
      const y = doc.y;
      if (i % 2 === 1) doc.rect(MARGIN, y, this.width, h).fill(SHADE);
      let x = MARGIN;
      row.forEach((cell, j) => {
        const c = columns[j] as Column;
        doc
          .font(c.mono ? 'Courier' : cell.bold ? 'Helvetica-Bold' : 'Helvetica')
          .fontSize(c.mono ? fontSize - 0.5 : fontSize);
        doc.fillColor(cell.color ?? INK).text(latin(cell.text), x + pad, y + pad, {
          width: c.width - 2 * pad,
          align: c.align ?? 'left',
        });
        x += c.width;
      });
      doc
        .save()
        .moveTo(MARGIN, y + h)
        .lineTo(MARGIN + this.width, y + h)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke()
        .restore();
      doc.y = y + h;
    });
    doc.x = MARGIN;
    doc.y += 6;
    doc.fillColor(INK);
  }

  /** The footer line and page numbers on every page, once all pages are written. */
  footers(line: string): void {
    const range = this.doc.bufferedPageRange();
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      // Below the bottom margin: without this pdfkit would start a new page for the footer.
      this.doc.page.margins.bottom = 0;
      const y = this.doc.page.height - MARGIN - 12;
      this.doc
        .save()
        .moveTo(MARGIN, y - 5)
        .lineTo(MARGIN + this.width, y - 5)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke()
        .restore();
      this.doc.font('Helvetica').fontSize(7).fillColor(MUTED);
      this.doc.text(line, MARGIN, y, { lineBreak: false });
      this.doc.text(`page ${i + 1 - range.start} of ${range.count}`, MARGIN + this.width - 60, y, {
        width: 60,
        align: 'right',
        lineBreak: false,
      });
    }
  }
}
