/**
 * The e-mails Savoir sends, in French and English. `{{name}}` is replaced by a variable: as is in
 * the subject and the text part, HTML-escaped in the HTML part. A template's variables are exactly
 * the names it mentions; queueing an e-mail without one of them is refused, and variables a
 * template does not use are dropped (never stored). The variables, by template:
 *   invitation:      organizationName, role, link, expiresAt
 *   password-reset:  link, expiresInMinutes
 *   new-sign-in:     at, ip, userAgent
 *   mfa-reset:       organizationName, link
 *   incident-notice: organizationName, title, severity, status, summary, link
 * `link` must be an http(s) URL. Dates are given already formatted for the reader.
 */
export const emailTemplates = ['invitation', 'password-reset', 'new-sign-in', 'mfa-reset', 'incident-notice'] as const;
export type EmailTemplate = (typeof emailTemplates)[number];
export const emailLocales = ['fr', 'en'] as const;
export type EmailLocale = (typeof emailLocales)[number];

export interface TemplateText {
  subject: string;
  /** Paragraphs; a paragraph that is exactly `{{link}}` becomes a button in HTML. */
  paragraphs: string[];
}

export const templateTexts: Record<EmailTemplate, Record<EmailLocale, TemplateText>> = {
  invitation: {
    fr: {
      subject: 'Invitation à rejoindre {{organizationName}} sur Savoir',
      paragraphs: [
        'Bonjour,',
        'Vous êtes invité(e) à rejoindre l’organisation {{organizationName}} sur Savoir avec le rôle {{role}}.',
        'Pour accepter, choisissez votre mot de passe en suivant ce lien (valable jusqu’au {{expiresAt}}) :',
        '{{link}}',
        'Si vous n’attendiez pas cette invitation, ignorez ce message.',
      ],
    },
    en: {
      subject: 'Invitation to join {{organizationName}} on Savoir',
      paragraphs: [
        'Hello,',
        'You are invited to join the organisation {{organizationName}} on Savoir with the role {{role}}.',
        'To accept, choose your password by following this link (valid until {{expiresAt}}):',
        '{{link}}',
        'If you were not expecting this invitation, ignore this message.',
      ],
    },
  },
  'password-reset': {
    fr: {
      subject: 'Réinitialisation de votre mot de passe Savoir',
      paragraphs: [
        'Bonjour,',
        'Une réinitialisation du mot de passe de votre compte Savoir a été demandée. Ce lien est valable {{expiresInMinutes}} minutes et ne sert qu’une fois :',
        '{{link}}',
        'Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.',
      ],
    },
    en: {
      subject: 'Reset your Savoir password',
      paragraphs: [
        'Hello,',
        'A password reset was requested for your Savoir account. This link is valid for {{expiresInMinutes}} minutes and works once:',
        '{{link}}',
        'If you did not ask for this, ignore this message: your password stays unchanged.',
      ],
    },
  },
  'new-sign-in': {
    fr: {
      subject: 'Nouvelle connexion à votre compte Savoir',
      paragraphs: [
        'Bonjour,',
        'Une connexion à votre compte Savoir a eu lieu le {{at}} depuis l’adresse {{ip}} ({{userAgent}}).',
        'Si c’était vous, rien à faire. Sinon, changez votre mot de passe et prévenez l’administrateur de votre organisation.',
      ],
    },
    en: {
      subject: 'New sign-in to your Savoir account',
      paragraphs: [
        'Hello,',
        'Your Savoir account was signed in to on {{at}} from the address {{ip}} ({{userAgent}}).',
        'If this was you, there is nothing to do. Otherwise, change your password and tell your organisation’s administrator.',
      ],
    },
  },
  'mfa-reset': {
    fr: {
      subject: 'Votre second facteur Savoir a été réinitialisé',
      paragraphs: [
        'Bonjour,',
        'Un administrateur de l’organisation {{organizationName}} a réinitialisé le second facteur d’authentification de votre compte.',
        'À votre prochaine connexion, vous devrez en enregistrer un nouveau :',
        '{{link}}',
        'Si vous n’avez pas demandé cette réinitialisation, prévenez sans attendre l’administrateur de votre organisation.',
      ],
    },
    en: {
      subject: 'Your Savoir second factor was reset',
      paragraphs: [
        'Hello,',
        'An administrator of the organisation {{organizationName}} reset the second authentication factor of your account.',
        'At your next sign-in you will enrol a new one:',
        '{{link}}',
        'If you did not ask for this reset, tell your organisation’s administrator at once.',
      ],
    },
  },
  'incident-notice': {
    fr: {
      subject: '[Incident {{severity}}] {{title}}',
      paragraphs: [
        'Bonjour,',
        'Un incident touche le service Savoir de votre organisation {{organizationName}}.',
        'État : {{status}}. {{summary}}',
        'Suivez son évolution sur la page d’état :',
        '{{link}}',
      ],
    },
    en: {
      subject: '[Incident {{severity}}] {{title}}',
      paragraphs: [
        'Hello,',
        'An incident affects the Savoir service of your organisation {{organizationName}}.',
        'Status: {{status}}. {{summary}}',
        'Follow it on the status page:',
        '{{link}}',
      ],
    },
  },
};
