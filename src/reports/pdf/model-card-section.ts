/** A model card: the model's registration, its card's fields and its versions. */
import type { ModelSection } from '../report-document.js';
import { dateTime, listOf, object, show } from './pdf-text.js';
import type { PdfWriter } from './pdf-writer.js';

export function modelCard(pdf: PdfWriter, m: ModelSection): void {
  pdf.newSection(`Model card: ${m.name}`);
  pdf.keyValues([
    ['Risk tier', m.riskTier ?? 'unknown'],
    ['Owner', m.owner ?? 'unknown'],
    ['Protected attributes', listOf(m.protectedAttributes)],
    [
      'Registered',
      m.registeredSeq === null
        ? 'not in this report'
        : `${dateTime(m.registeredAt)} by ${m.registeredBy ?? ''} (event ${m.registeredSeq})`,
    ],
  ]);
  const card = object(m.modelCard) ?? {};
  const fields: [string, string][] = [
    ['intendedUse', 'Intended use'],
    ['outOfScopeUses', 'Out-of-scope uses'],
    ['limitations', 'Limitations'],
    ['trainingData', 'Training data'],
    ['ethicalConsiderations', 'Ethical considerations'],
  ];
  for (const [key, title] of fields) {
    const value = card[key];
    pdf.heading3(title);
    if (Array.isArray(value)) for (const v of value) pdf.bullet(show(v));
    else pdf.paragraph(value === undefined || value === null ? '(not given)' : show(value));
  }
  for (const [key, value] of Object.entries(card)) {
    if (fields.some(([k]) => k === key)) continue;
    pdf.heading3(key);
    pdf.paragraph(show(value));
  }
  pdf.heading3('Versions');
  pdf.table(
    [
      { header: 'Version', width: 48, align: 'right' },
      { header: 'Artifact SHA-256', width: 190, mono: true },
      { header: 'Task', width: 95 },
      { header: 'Threshold', width: 52, align: 'right' },
      { header: 'Registered', width: 110 },
    ],
    m.versions.map((v) => [
      { text: String(v.version) },
      { text: v.artifactSha256 },
      {
        text: show(v['task'] ?? '')
          .toLowerCase()
          .replace(/_/g, ' '),
      },
      {
        text: v['threshold'] === null || v['threshold'] === undefined ? '-' : show(v['threshold']),
      },
      { text: `${dateTime(v.registeredAt)}\n${v.registeredBy} · event ${v.registeredSeq}` },
    ]),
  );
}
