import { describe, expect, it } from 'vitest';
import type { Passage } from '../chat-types.ts';
import { answerExtractively } from './extractive-answerer.ts';
import { detectLanguage } from './language.ts';

const passages: Passage[] = [
  {
    id: 'doc-1#3',
    title: 'Règlement intérieur',
    pages: [4],
    text: "Les salariés bénéficient de vingt-cinq jours de congés payés par an. La demande de congés se fait dans l'outil RH au moins un mois à l'avance. La cantine ouvre à midi.",
  },
  {
    id: 'doc-2#1',
    title: 'Employee handbook',
    text: 'Remote work is allowed two days per week. Employees must request remote work from their manager. The office closes at 8 pm.',
  },
  { id: 'doc-3#9', text: 'Le parking est réservé aux véhicules de service.' },
];

describe('local extractive answerer', () => {
  it('answers a French question in French from the best sentences, citing them', () => {
    const answer = answerExtractively('Combien de jours de congés payés ai-je par an ?', passages);
    expect(answer.found).toBe(true);
    expect(answer.language).toBe('fr');
    expect(answer.text).toBe("D'après les documents : Les salariés bénéficient de vingt-cinq jours de congés payés par an. [1]");
    expect(answer.citations).toEqual([{ marker: 1, passageId: 'doc-1#3', title: 'Règlement intérieur', pages: [4] }]);
  });

  it('answers an English question in English and numbers citations in order of the passages', () => {
    const answer = answerExtractively('How do I request remote work, and how do I request leave (congés)?', passages);
    expect(answer.language).toBe('en');
    expect(answer.text.startsWith('According to the documents:')).toBe(true);
    expect(answer.text).toContain('Employees must request remote work from their manager. [');
    for (const citation of answer.citations) expect(answer.text).toContain(`[${citation.marker}]`);
    expect(answer.citations.map((c) => c.marker)).toEqual(answer.citations.map((_, i) => i + 1));
  });

  it('says plainly when nothing relevant was found, in the question’s language', () => {
    expect(answerExtractively('Quelle est la couleur du logo ?', passages)).toEqual({
      text: "Je n'ai trouvé aucun passage pertinent dans les documents pour répondre à cette question.",
      language: 'fr',
      found: false,
      citations: [],
    });
    expect(answerExtractively('What is the capital of Peru?', passages)).toMatchObject({ found: false, text: 'I found nothing relevant in the documents to answer this question.' });
    expect(answerExtractively('What is the remote work policy?', [])).toMatchObject({ found: false, language: 'en' });
  });

  it('tells French from English', () => {
    expect(detectLanguage("Qu'est-ce que le télétravail ?")).toBe('fr');
    expect(detectLanguage('Où se trouve le parking')).toBe('fr');
    expect(detectLanguage('Where is the car park?')).toBe('en');
    expect(detectLanguage('What is the notice period')).toBe('en');
  });
});
