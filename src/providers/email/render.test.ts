import { describe, expect, it } from 'vitest';
import { EmailTemplateError, escapeHtml, pickTemplateVariables, renderEmail, templateVariables } from './render.ts';
import { emailLocales, emailTemplates, type EmailTemplate } from './templates.ts';

const sample: Record<EmailTemplate, Record<string, string>> = {
  invitation: { organizationName: 'Acme & Co <admin>', role: 'editor', link: 'https://savoir.test/invite/abc', expiresAt: '2026-12-01 12:00 UTC' },
  'password-reset': { link: 'https://savoir.test/reset/xyz', expiresInMinutes: '30' },
  'new-sign-in': { at: '2026-11-26 18:00 UTC', ip: '203.0.113.7', userAgent: 'Firefox on Linux' },
  'mfa-reset': { organizationName: 'Acme', link: 'https://savoir.test/login' },
  'incident-notice': { severity: 'major', title: 'Slow answers', organizationName: 'Acme', status: 'investigating', summary: 'Answers take longer.', link: 'https://status.savoir.test/' },
};

describe('e-mail templates', () => {
  it('renders every template in French and English, each in its own language', () => {
    for (const template of emailTemplates) {
      const fr = renderEmail(template, 'fr', sample[template]);
      const en = renderEmail(template, 'en', sample[template]);
      expect(fr.text).toContain('Bonjour');
      expect(en.text).toContain('Hello');
      expect(fr.html).toContain('<html lang="fr">');
      expect(en.html).toContain('<html lang="en">');
      for (const rendered of [fr, en]) {
        expect(rendered.subject).not.toMatch(/\{\{/);
        expect(rendered.text).not.toMatch(/\{\{/);
        expect(rendered.html).not.toMatch(/\{\{/);
      }
    }
    expect(renderEmail('password-reset', 'fr', sample['password-reset']).subject).toBe('Réinitialisation de votre mot de passe Savoir');
    expect(renderEmail('password-reset', 'en', sample['password-reset']).subject).toBe('Reset your Savoir password');
  });

  it('escapes variables in HTML and keeps them as written in text', () => {
    const rendered = renderEmail('invitation', 'en', sample.invitation);
    expect(rendered.html).toContain('the organisation Acme &amp; Co &lt;admin&gt; on Savoir');
    expect(rendered.html).not.toContain('<admin>');
    expect(rendered.text).toContain('the organisation Acme & Co <admin> on Savoir');
    expect(rendered.html).toContain('<a href="https://savoir.test/invite/abc"');
    expect(escapeHtml(`"'<>&`)).toBe('&quot;&#39;&lt;&gt;&amp;');
  });

  it('keeps a line break in a variable out of the subject', () => {
    const rendered = renderEmail('incident-notice', 'en', { ...sample['incident-notice'], title: 'Slow\r\nBcc: victim@example.com' });
    expect(rendered.subject).toBe('[Incident major] Slow Bcc: victim@example.com');
  });

  it('refuses missing variables and links that are not web links, and drops unused ones', () => {
    expect(templateVariables('password-reset')).toEqual(['expiresInMinutes', 'link']);
    expect(() => renderEmail('password-reset', 'en', { link: 'https://x.test/' })).toThrow(/missing expiresInMinutes/);
    expect(pickTemplateVariables('password-reset', { ...sample['password-reset'], token: 'x' })).toEqual(sample['password-reset']);
    expect(() => renderEmail('password-reset', 'en', { ...sample['password-reset'], link: 'javascript:alert(1)' })).toThrow(EmailTemplateError);
  });

  it('has the same variables in both languages', () => {
    for (const template of emailTemplates) {
      for (const locale of emailLocales) expect(() => renderEmail(template, locale, sample[template])).not.toThrow();
    }
  });
});
