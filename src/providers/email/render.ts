import { emailLocales, templateTexts, type EmailLocale, type EmailTemplate } from './templates.ts';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const PLACEHOLDER = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

export class EmailTemplateError extends Error {
  override name = 'EmailTemplateError';
}

/** The variables a template needs (the same in every language). */
export function templateVariables(template: EmailTemplate): string[] {
  const names = new Set<string>();
  for (const locale of emailLocales) {
    const { subject, paragraphs } = templateTexts[template][locale];
    for (const text of [subject, ...paragraphs]) for (const match of text.matchAll(PLACEHOLDER)) names.add(match[1]!);
  }
  return [...names].sort();
}

/**
 * The variables of `template` taken from `variables`: refuses a missing one (a half-filled
 * e-mail must not leave) and drops those the template does not use, so nothing unneeded (a
 * token passed by mistake) is stored.
 */
export function pickTemplateVariables(template: EmailTemplate, variables: Record<string, string>): Record<string, string> {
  const expected = templateVariables(template);
  const missing = expected.filter((name) => typeof variables[name] !== 'string');
  if (missing.length > 0) throw new EmailTemplateError(`e-mail template ${template}: missing ${missing.join(', ')}`);
  // Only web links become buttons: no javascript:, data: or mailto: smuggled into an e-mail.
  if (variables.link !== undefined && expected.includes('link') && !/^https?:\/\/[^\s]+$/.test(variables.link)) {
    throw new EmailTemplateError(`e-mail template ${template}: link must be an http(s) URL`);
  }
  return Object.fromEntries(expected.map((name) => [name, variables[name]!]));
}

export function escapeHtml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

function fill(text: string, variables: Record<string, string>, encode: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (_all, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new EmailTemplateError(`missing variable ${name}`);
    return encode(value);
  });
}

/** Subject, plain text and HTML of one e-mail. */
export function renderEmail(template: EmailTemplate, locale: EmailLocale, variables: Record<string, string>): RenderedEmail {
  variables = pickTemplateVariables(template, variables);
  const { subject, paragraphs } = templateTexts[template][locale];
  // A line break in a variable must not start a new header line.
  const renderedSubject = fill(subject, variables, (value) => value.replace(/[\r\n]+/g, ' '));
  const text = `${paragraphs.map((p) => fill(p, variables, (value) => value)).join('\n\n')}\n\n-- \nSavoir\n`;
  const body = paragraphs
    .map((p) =>
      p === '{{link}}'
        ? `<p><a href="${escapeHtml(variables.link ?? '')}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(variables.link ?? '')}</a></p>`
        : `<p>${fill(p, variables, escapeHtml)}</p>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><title>${escapeHtml(renderedSubject)}</title></head>
<body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111827">
${body}
<p style="color:#6b7280">Savoir</p>
</body>
</html>
`;
  return { subject: renderedSubject, text, html };
}
